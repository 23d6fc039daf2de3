# Runs on a distribution target: remove a template's local copy (its VM, if given, then its folder).
# Gone already: removed false.
# vdi-include: _VdiError.ps1
# vdi-include: _CopyProcess.ps1
# vdi-include: _CopyStop.ps1
$folder = ([string]$VdiParams.folder).TrimEnd('\')
Assert-VdiFolder $folder 'VDI-Templates'
$removed = Stop-VdiCopyProcess $folder
$vm = $(if ([string]$VdiParams.vm_id) { Get-VM -Id ([guid][string]$VdiParams.vm_id) -ErrorAction SilentlyContinue })
if ($vm) {
    # Only the copy in this folder: a wrong id never removes another VM.
    if (([string]$vm.Path).TrimEnd('\') -ne $folder) {
        throw (New-VdiError "VM '$($vm.Name)' is not in '$folder'." 'VdiNotTemplateCopy' 'InvalidArgument' $vm.Name)
    }
    Stop-VM -VM $vm -TurnOff -Force
    Remove-VM -VM $vm -Force
    $removed = $true
}
if (Test-Path -LiteralPath $folder) { Remove-Item -LiteralPath $folder -Recurse -Force; $removed = $true }
[pscustomobject]@{ removed = $removed }
