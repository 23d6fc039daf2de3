# Ask a clone's guest agent to log its user off (host-to-guest KVP item VDI.Logoff). logged_off: a
# user was logged on (guest item VDI.LoggedOnUser) and the request was handed over; false: nobody was.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolFolder.ps1
# vdi-include: _KvpRead.ps1
# vdi-include: _KvpWrite.ps1
$vm = Get-VdiCloneVM ([string]$VdiParams.vm_id)
$component = (Get-VdiKvpComponents)[[string]$vm.VMId]
$user = $(if ($component -and [string]$vm.State -eq 'Running') { [string](ConvertFrom-VdiKvpXml $component.GuestExchangeItems)['VDI.LoggedOnUser'] } else { '' })
if ($user) { Set-VdiKvpItems ([string]$vm.VMId) ([ordered]@{ 'VDI.Logoff' = '1' }) }
[pscustomobject]@{ logged_off = [bool]$user }
