# Shared: end a copy's process (and the robocopy it started) and forget the copy; the files stay.
function Stop-VdiCopyProcess([string]$Folder) {
    $p = Get-VdiCopyProcess (Read-VdiCopyState $Folder)
    if ($p) {
        # robocopy (its child) first, then the process that started it; one already gone is no error
        Stop-Process -Id (@(Get-CimInstance Win32_Process -Filter "ParentProcessId = $($p.ProcessId)") + $p).ProcessId -Force -ErrorAction SilentlyContinue
    }
    # "$Folder.vdi-copy.$s" is the folder's path followed by ".vdi-copy.json" etc.
    foreach ($s in 'json', 'exit', 'log') { $f = "$Folder.vdi-copy.$s"; if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
    [bool]$p
}
