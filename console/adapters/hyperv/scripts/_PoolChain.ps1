# Shared by the quick-clone scripts (issue #5): for each disk of a clone, its chain down to the first
# disk outside the clone folder (the template's base disk), and the clone's own copy of that base.
function Get-VdiCloneChains($VM, [string]$Folder) {
    $prefix = $Folder.TrimEnd('\') + '\'
    @(Get-VMHardDiskDrive -VM $VM | Where-Object { $_.Path } | ForEach-Object {
        $leaf = [string]$_.Path; $child = ''; $path = $leaf; $base = ''
        while ($path) {
            if (-not $path.StartsWith($prefix, [StringComparison]::OrdinalIgnoreCase)) { $base = $path; break }
            $child = $path
            $path = [string](Get-VHD -Path $path).ParentPath
        }
        $own = ''
        if ($base) { $own = Join-Path (Join-Path $Folder 'Virtual Hard Disks') ([IO.Path]::GetFileNameWithoutExtension($base) + '-own' + [IO.Path]::GetExtension($base)) }
        # leaf: what the VM runs on; child: the clone's disk whose parent is the base; base: '' when
        # the chain is already independent.
        [pscustomobject]@{ leaf = $leaf; child = $child; base = $base; own = $own }
    })
}
