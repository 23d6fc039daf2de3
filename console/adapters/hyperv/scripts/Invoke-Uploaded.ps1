# Runs a script uploaded by Upload-Chunk, after checking it arrived whole (its SHA-256 is its id).
# With params_b64: a script uploaded once per host without its parameters. The file stays for the next
# runs; the script reads this run's parameters from $VdiUploadedParams, which holds only base64 (data).
# With once: a whole script carrying its own parameters, deleted before it runs.
# Either way it is a complete _invoke.ps1: it writes its own JSON and ends with its own exit code.
# (Short on purpose: this command line also carries the parameters of the script it runs.)
$id = [string]$VdiParams.id
if ($id -cnotmatch '^[0-9a-f]{64}$') { throw 'The upload id is not a lowercase SHA-256 hex string.' }
$once = $VdiParams.once -is [bool] -and $VdiParams.once
$VdiUploadedParams = [string]$VdiParams.params_b64
if (!$once -and $VdiUploadedParams -cnotmatch '^[A-Za-z0-9+/]+=*$') { throw 'The parameters are not base64.' }
$path = "$env:TEMP\vdi-$id.ps1"
function Stop-VdiUpload($Exception, $Id, $Category) {
    throw (New-Object Management.Automation.ErrorRecord $Exception, $Id, $Category, $path)
}
if (!(Test-Path -LiteralPath $path)) {
    Stop-VdiUpload (New-Object IO.FileNotFoundException "The uploaded script $id was not found on the host.") VdiUploadMissing ObjectNotFound
}
$bytes = [IO.File]::ReadAllBytes($path)
$hash = -join ([Security.Cryptography.SHA256]::Create().ComputeHash($bytes) | % { $_.ToString('x2') })
# A damaged or tampered file never runs, and goes: the next run uploads it again.
if ($once -or $hash -ne $id) { Remove-Item -LiteralPath $path -Force }
if ($hash -ne $id) {
    Stop-VdiUpload (New-Object IO.InvalidDataException "The uploaded script $id arrived damaged (its SHA-256 is $hash).") VdiUploadDamaged InvalidData
}
# A script block, not the file path: the execution policy may forbid running .ps1 files.
& ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString($bytes)))
exit $LASTEXITCODE
