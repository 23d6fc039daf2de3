# Shared by the quick-clone scripts (issue #5; state files: see _OwnCopyState.ps1). End the copy's
# process (and its robocopy) if it is still the recorded one, remove the partial files; finished files stay.
function Stop-VdiOwnCopy([string]$Folder) {
    $f = Join-Path $Folder 'vdi-own-copy.json'
    $s = $(if (Test-Path -LiteralPath $f) { Get-Content -LiteralPath $f -Raw | ConvertFrom-Json })
    $p = $(if ($s -and $s.pid) { Get-CimInstance Win32_Process -Filter "ProcessId = $([int]$s.pid)" })
    # A process id is reused once its process ended: the creation time tells ours apart.
    if ($p -and $p.CreationDate.ToUniversalTime().Ticks -ne [int64]$s.created) { $p = $null }
    if ($p) { @(Get-CimInstance Win32_Process -Filter "ParentProcessId = $($p.ProcessId)") + $p | ForEach-Object { Stop-Process -Id $_.ProcessId -Force -ErrorAction SilentlyContinue } }
    $stage = Join-Path $Folder 'Virtual Hard Disks\_own'
    if (Test-Path -LiteralPath $stage) { Remove-Item -LiteralPath $stage -Recurse -Force }
    [bool]$p
}
