# One piece of a script too long for one command line; appended to $env:TEMP\vdi-<id>.ps1.
$id = [string]$VdiParams.id
if ($id -cnotmatch '^[0-9a-f]{64}$') { throw 'The upload id is not a lowercase SHA-256 hex string.' }
$index = [int]$VdiParams.index
$count = [int]$VdiParams.count
$path = Join-Path $env:TEMP ('vdi-' + $id + '.ps1')
$bytes = [Convert]::FromBase64String([string]$VdiParams.data)
if ($index -eq 0) {
    [IO.File]::WriteAllBytes($path, $bytes)
} else {
    if (-not (Test-Path -LiteralPath $path)) { throw "Piece $index of upload $id arrived before piece 0." }
    $stream = [IO.File]::Open($path, [IO.FileMode]::Append)
    try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
}
[pscustomobject]@{ id = $id; index = $index; count = $count
                   bytes = [int64](Get-Item -LiteralPath $path).Length }
