# Apply a template version's checkpoint to its source VM (the VM must be off).
# vdi-include: _VdiError.ps1
# vdi-include: _Checkpoint.ps1
# vdi-include: _VMObject.ps1
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id)
$snapshot = Get-VdiCheckpoint $vm ([string]$VdiParams.checkpoint_id)
if ([string]$vm.State -ne 'Off') {
    throw (New-VdiError "The virtual machine '$($vm.Name)' must be off to apply a checkpoint; it cannot be reverted in its current state ($($vm.State))." 'VdiInvalidState' 'InvalidOperation' $vm.Name)
}
Restore-VMSnapshot -VMSnapshot $snapshot -Confirm:$false
ConvertTo-VdiVM (Get-VM -Id $vm.VMId)
