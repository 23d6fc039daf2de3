# Hand a clone's guest agent its identity (name, domain join, Sysprep answers) as host-to-guest KVP
# items. The join password travels only in the parameter document and in its KVP item.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolFolder.ps1
# vdi-include: _KvpWrite.ps1
$p = $VdiParams
$vm = Get-VdiCloneVM ([string]$p.vm_id)
$method = [string]$p.method
if ($method -notin 'sysprep', 'rename-join') {
    throw (New-VdiError "'$method' is not an image preparation (sysprep or rename-join)." 'VdiBadPreparation' 'InvalidArgument' $method)
}
$items = [ordered]@{ 'VDI.ComputerName' = [string]$p.computer_name; 'VDI.Preparation' = $method
    'VDI.Domain' = [string]$p.domain; 'VDI.OrganizationalUnit' = [string]$p.organizational_unit
    'VDI.JoinAccount' = [string]$p.join_account; 'VDI.JoinPassword' = [string]$p.join_password
    'VDI.LocalAdministrator' = [string]$p.local_administrator; 'VDI.Owner' = [string]$p.owner
    'VDI.Organization' = [string]$p.organization }
Set-VdiKvpItems ([string]$vm.VMId) $items
[pscustomobject]@{ vm_id = [string]$vm.VMId; queued = $true }
