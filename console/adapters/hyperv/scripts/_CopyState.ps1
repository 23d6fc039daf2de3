# Shared by the copy scripts. A copy into <folder> keeps its state next to the folder, so it outlives
# the WinRM shell: <folder>.vdi-copy.json (copy id, process id and creation time, total bytes),
# <folder>.vdi-copy.exit (robocopy's exit code, written when it ends), <folder>.vdi-copy.log (robocopy's log).
function Get-VdiCopy([string]$CopyId, [string]$Folder) {
    $doc = [ordered]@{ copy_id = $CopyId; state = 'missing'; bytes_total = [int64]0; bytes_done = [int64]0; error = '' }
    $path = $Folder + '.vdi-copy.'
    $saved = Read-VdiCopyState $Folder
    if (-not $saved -or [string]$saved.copy_id -ne $CopyId) { return [pscustomobject]$doc }
    $doc.bytes_total = [int64]$saved.bytes_total
    $to = Join-Path $Folder '_export'
    if (Test-Path -LiteralPath $to) { $doc.bytes_done = [int64](Get-ChildItem -LiteralPath $to -Recurse -File -Force | Measure-Object Length -Sum).Sum }
    # robocopy's exit code: 0-7 success (1 = files copied), 8 and above: some files could not be copied.
    $code = $(if (Test-Path -LiteralPath ($path + 'exit')) { [int]((Get-Content -LiteralPath ($path + 'exit') -Raw).Trim()) })
    if ($null -ne $code -and $code -lt 8) { $doc.state = 'done'; $doc.bytes_done = $doc.bytes_total; return [pscustomobject]$doc }
    if ($null -eq $code -and (Get-VdiCopyProcess $saved)) { $doc.state = 'running'; return [pscustomobject]$doc }
    $doc.state = 'failed'
    $doc.error = "The copy process ended before the copy was complete."
    if (Test-Path -LiteralPath ($path + 'log')) {
        # robocopy logs "... ERROR 112 (0x00000070) Copying File ..." and Windows' sentence on the next line.
        $lines = @(Get-Content -LiteralPath ($path + 'log') | ForEach-Object { $_.Trim() } | Where-Object { $_ })
        for ($i = $lines.Count - 2; $i -ge 0; $i--) { if ($lines[$i] -match 'ERROR \d+ \(0x') { $doc.error = $lines[$i + 1]; break } }
    }
    [pscustomobject]$doc
}
