# Start copying a quick clone's base disk(s) into its folder (<disk>-own.<ext>), with robocopy in a
# process started through WMI so it outlives this WinRM shell. A copy with this id running or done is
# returned as it is; a failed one starts again.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolFolder.ps1
# vdi-include: _PoolChain.ps1
# vdi-include: _OwnCopyState.ps1
# vdi-include: _OwnCopyStop.ps1
$copyId = [string]$VdiParams.copy_id
$vm = Get-VdiCloneVM ([string]$VdiParams.vm_id)
$folder = ([string]$vm.Path).TrimEnd('\')
$current = Get-VdiOwnCopy $copyId $folder
if ($current.state -in 'running', 'done') { return $current }
Stop-VdiOwnCopy $folder | Out-Null
$files = @(Get-VdiCloneChains $vm $folder | Where-Object { $_.base } | ForEach-Object {
    [pscustomobject]@{ dir = (Split-Path -Parent $_.base); leaf = (Split-Path -Leaf $_.base); dest = $_.own; bytes = [int64](Get-Item -LiteralPath $_.base).Length }
})
$total = [int64]($files | Measure-Object bytes -Sum).Sum
foreach ($s in 'exit', 'log') { $f = Join-Path $folder "vdi-own-copy.$s"; if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
$stage = Join-Path $folder 'Virtual Hard Disks\_own'
New-Item -ItemType Directory -Path $stage -Force | Out-Null
# The paths reach the copy process as base64 JSON too: nothing in a name is ever parsed as code.
$job = ConvertTo-Json -Compress -Depth 4 -InputObject @{ files = @($files); stage = $stage
    log = (Join-Path $folder 'vdi-own-copy.log'); exit = (Join-Path $folder 'vdi-own-copy.exit') }
$jobB64 = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($job))
$inner = "`$j = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('$jobB64')) | ConvertFrom-Json; `$code = 0; foreach (`$f in @(`$j.files)) { if (Test-Path -LiteralPath `$f.dest) { continue }; & robocopy.exe `$f.dir `$j.stage `$f.leaf /J /R:3 /W:5 /NP /NFL /NDL `"/UNILOG+:`$(`$j.log)`"; if (`$LASTEXITCODE -ge 8) { `$code = `$LASTEXITCODE; break }; Move-Item -LiteralPath (Join-Path `$j.stage `$f.leaf) -Destination `$f.dest -Force }; Set-Content -LiteralPath `$j.exit -Value `$code -Encoding ASCII"
$command = 'powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ' + [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($inner))
$started = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $command; CurrentDirectory = $env:SystemRoot }
if ($started.ReturnValue -ne 0) {
    throw (New-VdiError "Windows could not start the copy process (Win32_Process.Create returned $($started.ReturnValue))." 'VdiCopyNotStarted' 'InvalidResult' $folder)
}
$process = Get-CimInstance Win32_Process -Filter "ProcessId = $($started.ProcessId)"
$created = $(if ($process) { $process.CreationDate.ToUniversalTime().Ticks } else { 0 })
$state = @{ copy_id = $copyId; pid = [int]$started.ProcessId; created = [int64]$created; bytes_total = $total; files = @($files) }
Set-Content -LiteralPath (Join-Path $folder 'vdi-own-copy.json') -Value (ConvertTo-Json -Compress -Depth 4 -InputObject $state) -Encoding UTF8
Get-VdiOwnCopy $copyId $folder
