# Runs on a distribution target: copy an export from the source's share into <folder>\_export with
# robocopy, in a process started through WMI so that it outlives this WinRM shell. A copy with this id
# running or done is returned as it is; a failed one starts again (robocopy skips the files it has).
# vdi-include: _VdiError.ps1
# vdi-include: _CopyProcess.ps1
# vdi-include: _CopyState.ps1
# vdi-include: _CopyStop.ps1
$copyId = [string]$VdiParams.copy_id
$folder = ([string]$VdiParams.folder).TrimEnd('\')
$source = ([string]$VdiParams.source_unc_folder).TrimEnd('\')
Assert-VdiFolder $folder 'VDI-Templates'
$current = Get-VdiCopy $copyId $folder
if ($current.state -in 'running', 'done') { return $current }
Stop-VdiCopyProcess $folder | Out-Null
New-Item -ItemType Directory -Path $folder -Force | Out-Null
$total = [int64](Get-ChildItem -LiteralPath $source -Recurse -File -Force | Measure-Object Length -Sum).Sum
# The paths reach the copy process as base64 JSON too: nothing in a name is ever parsed as code.
$job = ConvertTo-Json -Compress -InputObject @{ source = $source; destination = (Join-Path $folder '_export')
    log = $folder + '.vdi-copy.log'; exit = $folder + '.vdi-copy.exit' }
$jobB64 = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($job))
$inner = "`$j = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('$jobB64')) | ConvertFrom-Json; & robocopy.exe `$j.source `$j.destination /E /COPY:DAT /R:3 /W:5 /NP /NFL /NDL `"/UNILOG:`$(`$j.log)`"; Set-Content -LiteralPath `$j.exit -Value `$LASTEXITCODE -Encoding ASCII"
$command = 'powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ' + [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($inner))
$started = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $command; CurrentDirectory = $env:SystemRoot }
if ($started.ReturnValue -ne 0) {
    throw (New-VdiError "Windows could not start the copy process (Win32_Process.Create returned $($started.ReturnValue))." 'VdiCopyNotStarted' 'InvalidResult' $folder)
}
$process = Get-CimInstance Win32_Process -Filter "ProcessId = $($started.ProcessId)"
$created = $(if ($process) { $process.CreationDate.ToUniversalTime().Ticks } else { 0 })
$state = @{ copy_id = $copyId; pid = [int]$started.ProcessId; created = [int64]$created; bytes_total = $total; source = $source }
Set-Content -LiteralPath ($folder + '.vdi-copy.json') -Value (ConvertTo-Json -InputObject $state -Compress) -Encoding UTF8
Get-VdiCopy $copyId $folder
