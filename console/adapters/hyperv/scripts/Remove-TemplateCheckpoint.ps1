# Remove one checkpoint (its changes merge into its child or the VM). Gone already: removed false.
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id) -ErrorAction SilentlyContinue
$id = [string]$VdiParams.checkpoint_id
$found = @(if ($vm) { Get-VMSnapshot -VM $vm | Where-Object { [string]$_.Id -eq $id } })
if ($found) { Remove-VMSnapshot -VMSnapshot $found[0] -Confirm:$false }
[pscustomobject]@{ removed = [bool]$found }
