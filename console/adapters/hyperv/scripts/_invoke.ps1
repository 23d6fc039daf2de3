# vdi-script: {{SCRIPT_NAME}}
# Wrapper around every script: parameters arrive as base64 JSON data, never as code; the result or
# the error leaves as one JSON document on stdout. Written tight (comments are free: the adapter drops
# them): every character here is ~2.7 characters of every command line (CONTRACT.md "Length limit").
$ErrorActionPreference='Stop'
$ProgressPreference='SilentlyContinue'
# UTF-8 out where the host allows it; Write-VdiJson also escapes non-ASCII, so a failure here is harmless.
try { [Console]::OutputEncoding = New-Object Text.UTF8Encoding $false } catch { }
# A script uploaded once per host has $VdiUploadedParams here instead of the literal (set by Invoke-Uploaded).
$VdiParams = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{{PARAMS_B64}}')) | ConvertFrom-Json
# Non-ASCII leaves as \uXXXX: stdout may go through the console code page, which garbles names.
function Write-VdiJson($Value) {
    [Console]::Out.Write([regex]::Replace((ConvertTo-Json -InputObject $Value -Depth 8 -Compress), '[^\x00-\x7F]', { '\u{0:x4}' -f [int]$args[0].Value[0] }))
}
try {
    Write-VdiJson (& {
{{SCRIPT_BODY}}
    })
    exit 0
} catch {
    Write-VdiJson @{error=@{message=$_.Exception.Message;fqid=[string]$_.FullyQualifiedErrorId
        category=[string]$_.CategoryInfo.Category;exception=$_.Exception.GetType().FullName;target=[string]$_.TargetObject}}
    exit 1
}
