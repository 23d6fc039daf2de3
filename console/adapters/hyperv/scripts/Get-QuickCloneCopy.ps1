# How the copy started by Start-QuickCloneCopy is doing (state "missing" for a copy id the clone
# folder does not know). Polled: kept small enough for one command line.
# vdi-include: _OwnCopyState.ps1
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id)
Get-VdiOwnCopy ([string]$VdiParams.copy_id) ([string]$vm.Path).TrimEnd('\')
