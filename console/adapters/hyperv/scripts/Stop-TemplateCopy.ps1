# Runs on a distribution target: stop a copy and remove what it copied (<folder>\_export). Idempotent.
# vdi-include: _VdiError.ps1
# vdi-include: _CopyProcess.ps1
# vdi-include: _CopyStop.ps1
$copyId = [string]$VdiParams.copy_id
$folder = ([string]$VdiParams.folder).TrimEnd('\')
Assert-VdiFolder $folder 'VDI-Templates'
$saved = Read-VdiCopyState $folder
$stopped = $false
# Another copy id in this folder is not ours to stop.
if (-not $saved -or [string]$saved.copy_id -eq $copyId) {
    $stopped = Stop-VdiCopyProcess $folder
    $partial = Join-Path $folder '_export'
    if (Test-Path -LiteralPath $partial) { Remove-Item -LiteralPath $partial -Recurse -Force }
}
[pscustomobject]@{ stopped = [bool]$stopped }
