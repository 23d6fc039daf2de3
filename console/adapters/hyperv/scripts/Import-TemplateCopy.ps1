# Runs on a distribution target: register the copied export as a new VM (new id) in <folder>, rename it
# and remove the copy. Idempotent: a VM whose path is <folder> is the result of an earlier try.
# vdi-include: _VdiError.ps1
# vdi-include: _VMObject.ps1
$folder = ([string]$VdiParams.folder).TrimEnd('\')
$vmName = [string]$VdiParams.vm_name
$staged = Join-Path $folder '_export'
$vm = @(Get-VM | Where-Object { ([string]$_.Path).TrimEnd('\') -eq $folder })[0]
if (-not $vm) {
    $config = Join-Path $staged ([string]$VdiParams.config_file)
    $vhds = Join-Path $folder 'Virtual Hard Disks'
    $report = Compare-VM -Path $config -Copy -GenerateNewId -VirtualMachinePath $folder -VhdDestinationPath $vhds -SnapshotFilePath $folder -SmartPagingFilePath $folder
    if ($report.Incompatibilities) {
        $list = @($report.Incompatibilities | ForEach-Object { "$($_.Message) ($($_.MessageId))" }) -join ' '
        throw (New-VdiError "The template cannot be imported on ${env:COMPUTERNAME}: Compare-VM reports incompatibilities: $list" 'VdiIncompatible' 'InvalidData' $config)
    }
    $vm = Import-VM -Path $config -Copy -GenerateNewId -VirtualMachinePath $folder -VhdDestinationPath $vhds -SnapshotFilePath $folder -SmartPagingFilePath $folder
}
if ($vm.Name -cne $vmName) { Rename-VM -VM $vm -NewName $vmName }
if (Test-Path -LiteralPath $staged) { Remove-Item -LiteralPath $staged -Recurse -Force }
foreach ($suffix in '.vdi-copy.json', '.vdi-copy.exit', '.vdi-copy.log') {
    if (Test-Path -LiteralPath ($folder + $suffix)) { Remove-Item -LiteralPath ($folder + $suffix) -Force }
}
ConvertTo-VdiVM (Get-VM -Id $vm.VMId)
