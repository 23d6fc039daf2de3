# One piece of a long script, appended to $env:TEMP\vdi-<id>.ps1.part; the last piece renames that file
# to vdi-<id>.ps1, so a file of that name is always a whole upload (a run never reads half of one).
$id = [string]$VdiParams.id
if ($id -cnotmatch '^[0-9a-f]{64}$') { throw 'The upload id is not a lowercase SHA-256 hex string.' }
$index = [int]$VdiParams.index
$count = [int]$VdiParams.count
if ($index -lt 0 -or $index -ge $count) { throw "Piece $index of upload $id is not one of its $count pieces." }
$path = Join-Path $env:TEMP ('vdi-' + $id + '.ps1')
$part = $path + '.part'
$bytes = [Convert]::FromBase64String([string]$VdiParams.data)
if ($index -eq 0) {
    [IO.File]::WriteAllBytes($part, $bytes)
} else {
    if (-not (Test-Path -LiteralPath $part)) { throw "Piece $index of upload $id arrived before piece 0." }
    $stream = [IO.File]::Open($part, [IO.FileMode]::Append)
    try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
}
$size = [int64](Get-Item -LiteralPath $part).Length
if ($index -eq $count - 1) {
    if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Force }
    [IO.File]::Move($part, $path)
}
[pscustomobject]@{ id = $id; index = $index; count = $count; bytes = $size }
