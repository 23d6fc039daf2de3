# Make one pool clone, Off, in <VM path>\VDI-Pools\<pool>\<clone>: full (a copy of each base disk),
# linked (a differencing disk on each base disk) or quick (linked, then the checkpoint "VDI quick
# clone", so the VM writes to the checkpoint's .avhdx until Complete-QuickClone). The notes carry
# "vdi-request:<request_id>": a retry finds the VM the first try made.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolFolder.ps1
# vdi-include: _PoolRequest.ps1
# vdi-include: _VMObject.ps1
$name = [string]$VdiParams.name
$method = [string]$VdiParams.method
$folder = ([string]$VdiParams.folder).TrimEnd('\')
$requestId = [string]$VdiParams.request_id
Assert-VdiCloneFolder $folder
if ($method -notin 'full', 'linked', 'quick') {
    throw (New-VdiError "'$method' is not a provisioning method (full, linked or quick)." 'VdiBadMethod' 'InvalidArgument' $method)
}
# New-VM -Path <pool folder> -Name <clone> makes the VM's folder <pool folder>\<clone>.
if ((Split-Path -Leaf $folder) -cne $name) {
    throw (New-VdiError "The folder of clone '$name' must end with its name ('$folder')." 'VdiFolderRefused' 'InvalidArgument' $folder)
}
$bases = @($VdiParams.base_disks | ForEach-Object { [string]$_ } | Where-Object { $_ })
if (-not $bases) { throw (New-VdiError "No base disk was given for clone '$name'." 'VdiNoBaseDisk' 'InvalidArgument' $name) }
$vm = @(Get-VM | Where-Object { ([string]$_.Path).TrimEnd('\') -eq $folder -and $requestId -and (Get-VdiRequestId $_) -eq $requestId })[0]
if (-not $vm) {
    $taken = @(Get-VM | Where-Object { $_.Name -eq $name })
    if ($taken) {
        throw (New-VdiError "A virtual machine named '$name' already exists on ${env:COMPUTERNAME}." 'VdiNameInUse' 'ResourceExists' $name)
    }
    foreach ($base in $bases) {
        if (-not (Test-Path -LiteralPath $base)) { throw (New-VdiError "The base disk '$base' does not exist on ${env:COMPUTERNAME}." 'VdiBaseMissing' 'ObjectNotFound' $base) }
    }
    $vhds = Join-Path $folder 'Virtual Hard Disks'
    New-Item -ItemType Directory -Path $vhds -Force | Out-Null
    $disks = @(foreach ($base in $bases) {
        $leaf = [IO.Path]::GetFileNameWithoutExtension($base); $ext = [IO.Path]::GetExtension($base)
        if ($method -eq 'full') {
            $disk = Join-Path $vhds ($leaf + $ext)
            # Copied under another name first: a copy cut short (disk full) is never taken for a disk.
            if (-not (Test-Path -LiteralPath $disk)) { Copy-Item -LiteralPath $base -Destination ($disk + '.part') -Force; Move-Item -LiteralPath ($disk + '.part') -Destination $disk -Force }
        } else {
            $disk = Join-Path $vhds ($leaf + '-diff' + $ext)
            if (-not (Test-Path -LiteralPath $disk)) { New-VHD -Path $disk -ParentPath $base -Differencing | Out-Null }
        }
        $disk
    })
    $options = @{ Name = $name; Path = (Split-Path -Parent $folder); Generation = [int16]$VdiParams.generation
        MemoryStartupBytes = [int64]$VdiParams.memory_bytes; VHDPath = $disks[0] }
    if ([string]$VdiParams.switch) { $options.SwitchName = [string]$VdiParams.switch }
    $vm = New-VM @options
    Set-VM -VM $vm -Notes ('vdi-request:' + $requestId)
    Set-VMProcessor -VM $vm -Count ([int64]$VdiParams.cpu_count)
    foreach ($disk in @($disks | Select-Object -Skip 1)) { Add-VMHardDiskDrive -VM $vm -Path $disk }
}
if ($method -eq 'quick' -and -not @(Get-VMSnapshot -VM $vm | Where-Object { $_.Name -eq 'VDI quick clone' })) {
    Checkpoint-VM -VM $vm -SnapshotName 'VDI quick clone'
}
$disks = @(Get-VMHardDiskDrive -VM $vm | Where-Object { $_.Path } | ForEach-Object { [string]$_.Path })
[pscustomobject]@{ vm = ConvertTo-VdiVM (Get-VM -Id $vm.VMId); disks = $disks }
