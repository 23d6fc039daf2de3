# What the source VM and its host require of a distribution target (the SourceRequirements document).
# vdi-include: _HostPaths.ps1
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id)
$computer = Get-CimInstance Win32_ComputerSystem
$fqdn = Get-VdiFqdn
$nic = @(Get-VMNetworkAdapter -VM $vm) | Select-Object -First 1
$bytes = [int64]0
Get-VMHardDiskDrive -VM $vm | Where-Object { $_.Path } | ForEach-Object { $bytes += [int64](Get-VHD -Path $_.Path).FileSize }
# The configuration file as the target reads it for Compare-VM (file names use the upper-case id).
$config = Join-Path $vm.ConfigurationLocation ('Virtual Machines\' + ([string]$vm.VMId).ToUpper() + '.vmcx')
[pscustomobject]@{
    computer_name = [string]$env:COMPUTERNAME; fqdn = $fqdn; domain = [string]$computer.Domain
    folder_path = [string](Get-VMHost).VirtualMachinePath
    switch_name = $(if ($nic) { [string]$nic.SwitchName } else { '' })
    disk_bytes = $bytes; config_unc = ConvertTo-VdiUnc $config $fqdn; vm_id = [string]$vm.VMId
}
