# Runs on a distribution target: how a copy started by Start-TemplateCopy is doing (state "missing"
# for a copy id this folder does not know).
# vdi-include: _CopyProcess.ps1
# vdi-include: _CopyState.ps1
Get-VdiCopy ([string]$VdiParams.copy_id) ([string]$VdiParams.folder).TrimEnd('\')
