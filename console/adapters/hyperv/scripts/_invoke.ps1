# vdi-script: {{SCRIPT_NAME}}
# Wrapper around every script: parameters arrive as base64 JSON data, never as code; the result or
# the error leaves as one JSON document on stdout.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# UTF-8 out where the host allows it; Write-VdiJson also escapes non-ASCII, so a failure here is harmless.
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }
$VdiParams = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{{PARAMS_B64}}')) | ConvertFrom-Json
function Write-VdiJson($Value) {
    # Non-ASCII leaves as \uXXXX: stdout may go through the console code page, which garbles names.
    $json = ConvertTo-Json -InputObject $Value -Depth 8 -Compress
    [Console]::Out.Write([regex]::Replace($json, '[^\x00-\x7F]', { '\u{0:x4}' -f [int]$args[0].Value[0] }))
}
try {
    $VdiResult = & {
{{SCRIPT_BODY}}
    }
    Write-VdiJson $VdiResult
    exit 0
} catch {
    Write-VdiJson @{ error = @{ message = $_.Exception.Message; fqid = [string]$_.FullyQualifiedErrorId
        category = [string]$_.CategoryInfo.Category; exception = $_.Exception.GetType().FullName
        target = [string]$_.TargetObject } }
    exit 1
}
