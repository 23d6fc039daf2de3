# Export one checkpoint to <host VM path>\VDI-Export\<folder_name> for the distribution targets to copy.
# A complete export (its marker file vdi-export.json is written last) is returned as it is.
# vdi-include: _VdiError.ps1
# vdi-include: _Checkpoint.ps1
# vdi-include: _HostPaths.ps1
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id)
$checkpointId = [string]$VdiParams.checkpoint_id
$name = [string]$VdiParams.folder_name
# The folder name is data: it never reaches outside VDI-Export.
if (-not $name.Trim() -or $name -match '[\\/:*?"<>|\x00-\x1F]' -or $name -match '[. ]$') {
    throw (New-VdiError "'$name' cannot be used as a folder name." 'VdiBadFolderName' 'InvalidArgument' $name)
}
$folder = Join-Path (Join-Path (Get-VMHost).VirtualMachinePath 'VDI-Export') $name
$marker = Join-Path $folder 'vdi-export.json'
$done = $null
if (Test-Path -LiteralPath $marker) { $done = Get-Content -LiteralPath $marker -Raw | ConvertFrom-Json }
if (-not $done -or [string]$done.checkpoint_id -ne $checkpointId) {
    $snapshot = Get-VdiCheckpoint $vm $checkpointId
    # An incomplete export, or one of another checkpoint: start again.
    $stage = $folder + '.part'
    foreach ($old in $folder, $stage) { if (Test-Path -LiteralPath $old) { Remove-Item -LiteralPath $old -Recurse -Force } }
    New-Item -ItemType Directory -Path $stage -Force | Out-Null
    Export-VMSnapshot -VMSnapshot $snapshot -Path $stage
    # Export-VMSnapshot writes <stage>\<VM name>\...: that one folder becomes the export folder.
    Move-Item -LiteralPath (@(Get-ChildItem -LiteralPath $stage -Directory)[0].FullName) -Destination $folder
    Remove-Item -LiteralPath $stage -Recurse -Force
    $config = @(Get-ChildItem -LiteralPath (Join-Path $folder 'Virtual Machines') -Filter '*.vmcx')[0]
    $bytes = [int64](Get-ChildItem -LiteralPath $folder -Recurse -File -Force | Measure-Object Length -Sum).Sum
    $done = [pscustomobject]@{ checkpoint_id = $checkpointId; config_file = 'Virtual Machines\' + $config.Name; bytes = $bytes }
    Set-Content -LiteralPath $marker -Value (ConvertTo-Json -InputObject $done -Compress) -Encoding UTF8
}
[pscustomobject]@{ folder = $folder; unc_folder = ConvertTo-VdiUnc $folder (Get-VdiFqdn)
    config_file = [string]$done.config_file; bytes = [int64]$done.bytes }
