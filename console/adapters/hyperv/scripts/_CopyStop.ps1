# Shared: end a copy's process (and the robocopy it started) and forget the copy; the files stay.
function Stop-VdiCopyProcess([string]$Folder) {
    $path = $Folder + '.vdi-copy.'
    $p = $(if (Test-Path -LiteralPath ($path + 'json')) { Get-VdiCopyProcess (Get-Content -LiteralPath ($path + 'json') -Raw | ConvertFrom-Json) })
    if ($p) {
        Get-CimInstance Win32_Process -Filter "ParentProcessId = $($p.ProcessId)" | ForEach-Object { Stop-Process -Id $_.ProcessId -Force -ErrorAction SilentlyContinue }
        Stop-Process -Id $p.ProcessId -Force -ErrorAction SilentlyContinue
    }
    foreach ($s in 'json', 'exit', 'log') { if (Test-Path -LiteralPath ($path + $s)) { Remove-Item -LiteralPath ($path + $s) -Force } }
    [bool]$p
}
