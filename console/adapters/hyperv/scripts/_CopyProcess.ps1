# Shared: a copy's state file <folder>.vdi-copy.json (nothing without one), and the process it records
# if that is still the one that runs.
function Read-VdiCopyState([string]$Folder) {
    $f = $Folder + '.vdi-copy.json'
    if (Test-Path -LiteralPath $f) { Get-Content -LiteralPath $f -Raw | ConvertFrom-Json }
}
function Get-VdiCopyProcess($Saved) {
    $p = $(if ($Saved.pid) { Get-CimInstance Win32_Process -Filter "ProcessId = $([int]$Saved.pid)" })
    # A process id is reused once its process ended: the creation time tells ours apart.
    if ($p -and $p.CreationDate.ToUniversalTime().Ticks -eq [int64]$Saved.created) { $p }
}
