# Every VM on this host.
# vdi-include: _VMObject.ps1
[pscustomobject]@{
    computer_name = [string]$env:COMPUTERNAME
    vms           = @(Get-VM | ForEach-Object { ConvertTo-VdiVM $_ })
}
