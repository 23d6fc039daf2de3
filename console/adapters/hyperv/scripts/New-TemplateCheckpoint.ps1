# A checkpoint of an Off VM for a template version. Idempotent: a checkpoint of that name is returned.
# Checkpoint-VM has no type parameter; the VM is off, so the checkpoint holds no memory either way.
# vdi-include: _VdiError.ps1
# vdi-include: _Checkpoint.ps1
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id)
$name = [string]$VdiParams.name
$existing = @(Get-VMSnapshot -VM $vm | Where-Object { $_.Name -eq $name })
if ($existing) { return ConvertTo-VdiCheckpoint $existing[0] }
if ([string]$vm.State -ne 'Off') {
    throw (New-VdiError "The virtual machine '$($vm.Name)' must be off for a template checkpoint; it cannot be checkpointed in its current state ($($vm.State))." 'VdiInvalidState' 'InvalidOperation' $vm.Name)
}
ConvertTo-VdiCheckpoint (Checkpoint-VM -VM $vm -SnapshotName $name -Passthru)
