# Stop a quick clone's copy and remove its partial files (a cancelled make_independent). Idempotent.
# vdi-include: _VdiError.ps1
# vdi-include: _PoolFolder.ps1
# vdi-include: _OwnCopyStop.ps1
$vm = Get-VdiCloneVM ([string]$VdiParams.vm_id)
$folder = ([string]$vm.Path).TrimEnd('\')
$f = Join-Path $folder 'vdi-own-copy.json'
$saved = $(if (Test-Path -LiteralPath $f) { Get-Content -LiteralPath $f -Raw | ConvertFrom-Json })
$stopped = $false
# Another copy id in this folder is not ours to stop.
if (-not $saved -or [string]$saved.copy_id -eq [string]$VdiParams.copy_id) { $stopped = Stop-VdiOwnCopy $folder }
[pscustomobject]@{ stopped = [bool]$stopped }
