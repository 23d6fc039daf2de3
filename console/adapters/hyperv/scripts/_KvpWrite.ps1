# Shared by the pool scripts (issue #5): writing Hyper-V Data Exchange (KVP) items. The host hands the guest
# agent its work as host-to-guest items (Msvm_VirtualSystemManagementService.AddKvpItems); the agent
# answers with guest items (Msvm_KvpExchangeComponent.GuestExchangeItems). Values are data: they are
# serialized as CIM instances, never pasted into code, and never written anywhere else.
function Wait-VdiCimJob($Result, [string]$What) {
    if ($Result.ReturnValue -eq 4096) {
        $job = Get-CimInstance -InputObject $Result.Job
        $deadline = (Get-Date).AddSeconds(60)
        while ($job.JobState -in 2, 3, 4 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 200; $job = Get-CimInstance -InputObject $job }
        if ($job.JobState -ne 7) {
            throw (New-VdiError "Hyper-V could not complete $What (job state $($job.JobState)): $($job.ErrorDescription)" 'VdiKvpFailed' 'InvalidResult' $What)
        }
    } elseif ($Result.ReturnValue -ne 0) {
        throw (New-VdiError "Hyper-V could not complete $What (return value $($Result.ReturnValue))." 'VdiKvpFailed' 'InvalidResult' $What)
    }
}
# $Items: an ordered dictionary of name -> data. An existing item of the same name is replaced.
function Set-VdiKvpItems([string]$VmId, $Items) {
    $ns = 'root\virtualization\v2'
    $vmms = Get-CimInstance -Namespace $ns -ClassName Msvm_VirtualSystemManagementService
    $system = Get-CimInstance -Namespace $ns -ClassName Msvm_ComputerSystem -Filter ("Name = '{0}'" -f ([guid]$VmId))
    $serializer = [Microsoft.Management.Infrastructure.Serialization.CimSerializer]::Create()
    $plain = [Microsoft.Management.Infrastructure.Serialization.InstanceSerializationOptions]::None
    $texts = @(foreach ($key in @($Items.Keys)) {
        $item = New-CimInstance -Namespace $ns -ClassName Msvm_KvpExchangeDataItem -ClientOnly -Property @{ Name = [string]$key; Data = [string]$Items[$key]; Source = [uint16]0 }
        [Text.Encoding]::Unicode.GetString($serializer.Serialize($item, $plain))
    })
    # RemoveKvpItems fails for items that are not there: its answer only matters for the add below.
    $removed = Invoke-CimMethod -InputObject $vmms -MethodName RemoveKvpItems -Arguments @{ TargetSystem = $system; DataItems = $texts }
    try { Wait-VdiCimJob $removed 'the removal of older items' } catch { }
    Wait-VdiCimJob (Invoke-CimMethod -InputObject $vmms -MethodName AddKvpItems -Arguments @{ TargetSystem = $system; DataItems = $texts }) 'the hand-over to the guest agent'
}
