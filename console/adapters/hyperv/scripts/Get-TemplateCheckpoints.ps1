# The checkpoints of one VM, oldest first.
# vdi-include: _Checkpoint.ps1
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id)
@(Get-VMSnapshot -VM $vm | Sort-Object CreationTime | ForEach-Object { ConvertTo-VdiCheckpoint $_ })
