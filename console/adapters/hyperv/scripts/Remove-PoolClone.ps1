# Remove a clone: its copy process if any, the VM (turned off) and its folder. Only a VM in that folder
# and a folder of the shape <VM path>\VDI-Pools\<pool>\<clone>. Gone already: removed false.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolFolder.ps1
# vdi-include: _OwnCopyStop.ps1
$folder = ([string]$VdiParams.folder).TrimEnd('\')
Assert-VdiCloneFolder $folder
$removed = $false
$vm = $(if ([string]$VdiParams.vm_id) { Get-VM -Id ([guid][string]$VdiParams.vm_id) -ErrorAction SilentlyContinue })
if ($vm) {
    if (([string]$vm.Path).TrimEnd('\') -ne $folder) {
        throw (New-VdiError "VM '$($vm.Name)' is not in '$folder'." 'VdiNotPoolClone' 'InvalidArgument' $vm.Name)
    }
    if (Test-Path -LiteralPath $folder) { Stop-VdiOwnCopy $folder | Out-Null }
    if ([string]$vm.State -ne 'Off') { Stop-VM -VM $vm -TurnOff -Force }
    Remove-VM -VM $vm -Force
    $removed = $true
}
if (Test-Path -LiteralPath $folder) { Stop-VdiOwnCopy $folder | Out-Null; Remove-Item -LiteralPath $folder -Recurse -Force; $removed = $true }
[pscustomobject]@{ removed = $removed }
