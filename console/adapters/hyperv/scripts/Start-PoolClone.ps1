# Start a clone (resume a paused one). Already running: returned as it is.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolFolder.ps1
# vdi-include: _VMObject.ps1
$vm = Get-VdiCloneVM ([string]$VdiParams.vm_id)
$state = [string]$vm.State
if ($state -eq 'Paused') { Resume-VM -VM $vm }
elseif ($state -notin 'Running', 'Starting') { Start-VM -VM $vm }
ConvertTo-VdiVM (Get-VM -Id $vm.VMId)
