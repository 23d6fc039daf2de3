# Runs a script uploaded by Upload-Chunk, after checking it arrived whole; the file is deleted first.
# The uploaded script is a complete _invoke.ps1: it writes its own JSON and ends with its own exit code.
$id = [string]$VdiParams.id
if ($id -cnotmatch '^[0-9a-f]{64}$') { throw 'The upload id is not a lowercase SHA-256 hex string.' }
$path = Join-Path $env:TEMP ('vdi-' + $id + '.ps1')
if (-not (Test-Path -LiteralPath $path)) {
    $exception = New-Object System.IO.FileNotFoundException "The uploaded script $id was not found on the host."
    throw (New-Object System.Management.Automation.ErrorRecord $exception, 'VdiUploadMissing',
        ([System.Management.Automation.ErrorCategory]::ObjectNotFound), $path)
}
$bytes = [IO.File]::ReadAllBytes($path)
Remove-Item -LiteralPath $path -Force
$sha = [Security.Cryptography.SHA256]::Create()
$hash = -join ($sha.ComputeHash($bytes) | ForEach-Object { $_.ToString('x2') })
if ($hash -ne $id) { throw "The uploaded script $id arrived damaged (its SHA-256 is $hash)." }
# A script block, not the file path: the execution policy may forbid running .ps1 files.
& ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString($bytes)))
exit $LASTEXITCODE
