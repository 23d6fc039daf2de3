# Make a quick clone independent of the template's base: re-parent each of its disks onto the clone's
# own copy of the base (online while it runs: -LeafPath), then remove the checkpoint "VDI quick clone"
# (Hyper-V merges it). Already done: returned as it is.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolFolder.ps1
# vdi-include: _PoolChain.ps1
# vdi-include: _VMObject.ps1
$vm = Get-VdiCloneVM ([string]$VdiParams.vm_id)
$folder = ([string]$vm.Path).TrimEnd('\')
foreach ($chain in @(Get-VdiCloneChains $vm $folder | Where-Object { $_.base })) {
    if (-not (Test-Path -LiteralPath $chain.own)) {
        throw (New-VdiError "The clone's own copy of '$($chain.base)' is not complete: copy it first (Start-QuickCloneCopy)." 'VdiCopyIncomplete' 'InvalidOperation' $chain.own)
    }
    # The own copy is a file copy of the base: the same disk identifier, so no id mismatch to ignore.
    if ([string]$vm.State -eq 'Running' -and $chain.leaf -ne $chain.child) { Set-VHD -Path $chain.child -ParentPath $chain.own -LeafPath $chain.leaf }
    else { Set-VHD -Path $chain.child -ParentPath $chain.own }
}
$checkpoint = @(Get-VMSnapshot -VM $vm | Where-Object { $_.Name -eq 'VDI quick clone' })
if ($checkpoint) { Remove-VMSnapshot -VMSnapshot $checkpoint }
foreach ($s in 'json', 'exit', 'log') { $f = Join-Path $folder "vdi-own-copy.$s"; if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
ConvertTo-VdiVM (Get-VM -Id $vm.VMId)
