# What the source VM and its host require of a distribution target (the SourceRequirements document).
# vdi-include: _HostPaths.ps1
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id)
$computer = Get-CimInstance Win32_ComputerSystem
$fqdn = Get-VdiFqdn
$nic = @(Get-VMNetworkAdapter -VM $vm) | Select-Object -First 1
$bytes = [int64]0
$seen = @{}
$vhdFolder = ''
foreach ($drive in @(Get-VMHardDiskDrive -VM $vm | Where-Object { $_.Path })) {
    $path = [string]$drive.Path
    # Compare-VM on a target looks for the disks by name in this folder (-VhdSourcePath), not at their
    # local paths here.
    if (-not $vhdFolder) { $vhdFolder = Split-Path -Parent $path }
    # After a checkpoint the VM runs on a differencing .avhdx: its parents up to the base disk are what
    # an export copies, so every file of the chain counts (once: two disks may share a parent; the
    # hashtable's keys ignore case, as Windows paths do).
    while ($path -and -not $seen.ContainsKey($path)) {
        $seen[$path] = $true
        $vhd = Get-VHD -Path $path
        $bytes += [int64]$vhd.FileSize
        $path = [string]$vhd.ParentPath
    }
}
# The configuration file as the target reads it for Compare-VM (file names use the upper-case id).
$config = Join-Path $vm.ConfigurationLocation ('Virtual Machines\' + ([string]$vm.VMId).ToUpper() + '.vmcx')
[pscustomobject]@{
    computer_name = [string]$env:COMPUTERNAME; fqdn = $fqdn; domain = [string]$computer.Domain
    folder_path = [string](Get-VMHost).VirtualMachinePath
    switch_name = $(if ($nic) { [string]$nic.SwitchName } else { '' })
    disk_bytes = $bytes; config_unc = ConvertTo-VdiUnc $config $fqdn; vm_id = [string]$vm.VMId
    vhd_folder_unc = $(if ($vhdFolder) { ConvertTo-VdiUnc $vhdFolder $fqdn } else { '' })
}
