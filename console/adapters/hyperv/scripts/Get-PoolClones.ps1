# What exists of a pool on this host (after a crash): the VMs whose folder is <pool_folder>\<clone>,
# and clone folders with no VM (vm_id ""), each with the request id from the VM's notes.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolRequest.ps1
$poolFolder = ([string]$VdiParams.pool_folder).TrimEnd('\')
Assert-VdiPoolFolder $poolFolder
$found = @(Get-VM | Where-Object { (Split-Path -Parent ([string]$_.Path).TrimEnd('\')) -eq $poolFolder } | ForEach-Object {
    [pscustomobject]@{ vm_id = [string]$_.VMId; name = [string]$_.Name; folder = ([string]$_.Path).TrimEnd('\'); request_id = Get-VdiRequestId $_ }
})
$known = @{}
foreach ($c in $found) { $known[$c.folder] = $true }
$empty = @(if (Test-Path -LiteralPath $poolFolder) {
    Get-ChildItem -LiteralPath $poolFolder -Directory | Where-Object { -not $known.ContainsKey($_.FullName) } | ForEach-Object {
        [pscustomobject]@{ vm_id = ''; name = $_.Name; folder = $_.FullName; request_id = '' }
    }
})
@($found + $empty)
