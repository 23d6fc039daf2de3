# Remove an export folder made by Export-TemplateCheckpoint (and a half-made one). Gone already: false.
# vdi-include: _VdiError.ps1
$folder = ([string]$VdiParams.folder).TrimEnd('\')
Assert-VdiFolder $folder 'VDI-Export'
$removed = $false
foreach ($path in $folder, ($folder + '.part')) {
    if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force; $removed = $true }
}
[pscustomobject]@{ removed = $removed }
