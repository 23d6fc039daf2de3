# Shared: the process of a copy recorded in <folder>.vdi-copy.json, if it is still the one that runs.
function Get-VdiCopyProcess($Saved) {
    if (-not $Saved.pid) { return $null }
    $p = Get-CimInstance Win32_Process -Filter "ProcessId = $([int]$Saved.pid)"
    # A process id is reused once its process ended: the creation time tells ours apart.
    if ($p -and $p.CreationDate.ToUniversalTime().Ticks -eq [int64]$Saved.created) { $p }
}
