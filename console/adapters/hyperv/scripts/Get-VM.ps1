# One VM by its id; Hyper-V's own "unable to find" error when it is not there.
# vdi-include: _VMObject.ps1
ConvertTo-VdiVM (Get-VM -Id ([guid][string]$VdiParams.vm_id))
