# A VM read for the Create Template wizard: the VM, its integration services and its checkpoints.
# vdi-include: _VMObject.ps1
# vdi-include: _Checkpoint.ps1
$vm = Get-VM -Id ([guid][string]$VdiParams.vm_id)
# By component GUID (Microsoft:<vm id>\<guid>): the services' display names are localized.
$known = [ordered]@{ 'Heartbeat' = '84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47'; 'Shutdown' = '9F8233AC-BE49-4C79-8EE3-E7E1985B2077'
    'Key-Value Pair Exchange' = '2A34B1C2-FD73-4043-8A5B-DD2159BC743F'; 'Guest Service Interface' = '6C09BB55-D683-4DA0-8931-C9BF705F6480'
    'Time Synchronization' = '2497F4DE-E9FA-4204-80E4-4B75C46419C0'; 'VSS' = '5CED1297-4598-4915-A5FC-AD21BB4D02A4' }
$services = @(Get-VMIntegrationService -VM $vm)
# Enabled is the host's setting (on by default); whether the guest answers is PrimaryStatusDescription
# ("OK", "No Contact", ...), which only a running VM can tell: "" otherwise, and for a disabled service.
$running = [string]$vm.State -eq 'Running'
[pscustomobject]@{
    vm = ConvertTo-VdiVM $vm
    integration_services = @($known.Keys | ForEach-Object {
        $name = $_; $guid = $known[$name]
        $service = @($services | Where-Object { "$($_.Id)" -like "*$guid" })[0]
        $enabled = [bool]($service -and $service.Enabled)
        [pscustomobject]@{ name = $name; enabled = $enabled
            status = $(if ($running -and $enabled) { [string]$service.PrimaryStatusDescription } else { '' }) }
    })
    checkpoints = @(Get-VMSnapshot -VM $vm | Sort-Object CreationTime | ForEach-Object { ConvertTo-VdiCheckpoint $_ })
}
