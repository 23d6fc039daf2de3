# Shared by the pool scripts (issue #5): reading the KVP items a guest agent writes (see _KvpWrite.ps1).
# Embedded Msvm_KvpExchangeDataItem instances (CIM-XML text) -> hashtable name -> data.
function ConvertFrom-VdiKvpXml($Texts) {
    $map = @{}
    foreach ($text in @($Texts)) {
        if (-not $text) { continue }
        $xml = [xml][string]$text
        $name = $xml.SelectSingleNode("/INSTANCE/PROPERTY[@NAME='Name']/VALUE")
        $data = $xml.SelectSingleNode("/INSTANCE/PROPERTY[@NAME='Data']/VALUE")
        if ($name) { $map[[string]$name.InnerText] = $(if ($data) { [string]$data.InnerText } else { '' }) }
    }
    $map
}
# Every VM's KVP component on this host, by VM id (one query for many VMs).
function Get-VdiKvpComponents {
    $byVm = @{}
    Get-CimInstance -Namespace 'root\virtualization\v2' -ClassName Msvm_KvpExchangeComponent | ForEach-Object { $byVm[[string]$_.SystemName] = $_ }
    $byVm
}
