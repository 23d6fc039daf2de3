# Shared by the quick-clone copy scripts (issue #5). The copy of a clone's base disk(s) runs in a
# process started through WMI (it outlives the WinRM shell) and keeps its state in the clone folder:
# vdi-own-copy.json (copy id, process id and creation time, files, total bytes), vdi-own-copy.exit
# (the exit code, written when it ends), vdi-own-copy.log (robocopy's log). robocopy copies into
# <folder>\Virtual Hard Disks\_own; each finished file is moved to <disk>-own.<ext> next to the clone's disks.
function Read-VdiOwnCopy([string]$Folder) {
    $f = Join-Path $Folder 'vdi-own-copy.json'
    if (Test-Path -LiteralPath $f) { Get-Content -LiteralPath $f -Raw | ConvertFrom-Json }
}
function Get-VdiOwnCopyProcess($Saved) {
    $p = $(if ($Saved -and $Saved.pid) { Get-CimInstance Win32_Process -Filter "ProcessId = $([int]$Saved.pid)" })
    # A process id is reused once its process ended: the creation time tells ours apart.
    if ($p -and $p.CreationDate.ToUniversalTime().Ticks -eq [int64]$Saved.created) { $p }
}
function Get-VdiOwnCopy([string]$CopyId, [string]$Folder) {
    $doc = [ordered]@{ copy_id = $CopyId; state = 'missing'; bytes_total = [int64]0; bytes_done = [int64]0; error = '' }
    $saved = Read-VdiOwnCopy $Folder
    if (-not $saved -or [string]$saved.copy_id -ne $CopyId) { return [pscustomobject]$doc }
    $doc.bytes_total = [int64]$saved.bytes_total
    $done = [int64]0
    foreach ($f in @($saved.files)) { if (Test-Path -LiteralPath $f.dest) { $done += (Get-Item -LiteralPath $f.dest).Length } }
    $stage = Join-Path $Folder 'Virtual Hard Disks\_own'
    if (Test-Path -LiteralPath $stage) { $done += [int64](Get-ChildItem -LiteralPath $stage -Recurse -File -Force | Measure-Object Length -Sum).Sum }
    $doc.bytes_done = [int64][Math]::Min($done, $doc.bytes_total)
    $exitFile = Join-Path $Folder 'vdi-own-copy.exit'
    $code = $(if (Test-Path -LiteralPath $exitFile) { [int]((Get-Content -LiteralPath $exitFile -Raw).Trim()) })
    if ($null -ne $code -and $code -lt 8) { $doc.state = 'done'; $doc.bytes_done = $doc.bytes_total; return [pscustomobject]$doc }
    if ($null -eq $code -and (Get-VdiOwnCopyProcess $saved)) { $doc.state = 'running'; return [pscustomobject]$doc }
    $doc.state = 'failed'
    $doc.error = 'The copy process ended before the copy was complete.'
    $log = Join-Path $Folder 'vdi-own-copy.log'
    if (Test-Path -LiteralPath $log) {
        # robocopy logs "... ERROR 112 (0x00000070) Copying File ..." and Windows' sentence on the next line.
        $lines = @(Get-Content -LiteralPath $log | ForEach-Object { $_.Trim() } | Where-Object { $_ })
        for ($i = $lines.Count - 2; $i -ge 0; $i--) { if ($lines[$i] -match 'ERROR \d+ \(0x') { $doc.error = $lines[$i + 1]; break } }
    }
    [pscustomobject]$doc
}
