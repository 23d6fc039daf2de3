# Start, shut down (through the guest), turn off or restart one VM. Hyper-V's own errors pass through
# (e.g. restart of a VM that is off: "...cannot be performed while the object is in its current state").
# vdi-include: _VMObject.ps1
$vmId = $VdiParams.vm_id
$action = [string]$VdiParams.action
$vm = Get-VM -Id $vmId
$state = [string]$vm.State
$note = ''
# Idempotent: asking for the state the VM is already in changes nothing and says so.
if ($action -eq 'start' -and $state -eq 'Running') { $note = 'The virtual machine is already running.' }
elseif ($action -in 'shutdown', 'stop' -and $state -eq 'Off') { $note = 'The virtual machine is already off.' }
elseif ($action -eq 'start') { if ($state -eq 'Paused') { Resume-VM -VM $vm } else { Start-VM -VM $vm } }
elseif ($action -eq 'shutdown') { Stop-VM -VM $vm -Force }
elseif ($action -eq 'stop') { Stop-VM -VM $vm -TurnOff -Force }
elseif ($action -eq 'restart') { Restart-VM -VM $vm -Force }
else { throw "Unknown power action '$action'." }
[pscustomobject]@{ vm = ConvertTo-VdiVM (Get-VM -Id $vmId); changed = -not $note; note = $note }
