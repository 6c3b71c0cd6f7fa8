//! Rows of `kubectl get deployments` (Ready as `ready/desired`, Up-to-date, Available) and
//! `kubectl get replicasets` (Desired, Current, Ready), with the template's containers, images
//! and the selector under `-o wide`.
import Wire

enum WorkloadPrinters {
    static let deployments = TablePrinter(
        columns: [
            TablePrinters.nameColumn,
            TableColumn(name: "Ready", description: "Ready pods out of the desired replicas."),
            TableColumn(name: "Up-to-date", description: "Pods that run the current template."),
            TableColumn(name: "Available", description: "Pods that have been ready for at least minReadySeconds."),
            TablePrinters.ageColumn, TablePrinters.containersColumn, TablePrinters.imagesColumn, TablePrinters.selectorColumn,
        ],
        cells: { deployment, now in
            let desired = deployment.intMember("spec", "replicas") ?? 0
            let ready = deployment.intMember("status", "readyReplicas") ?? 0
            return [
                TablePrinters.name(deployment), .string("\(ready)/\(desired)"),
                .integer(deployment.intMember("status", "updatedReplicas") ?? 0),
                .integer(deployment.intMember("status", "availableReplicas") ?? 0),
                TablePrinters.age(deployment, now),
            ] + TablePrinters.containerCells(deployment["spec"]?["template"]?["spec"])
                + [.string(TablePrinters.formatSelector(deployment["spec"]?["selector"]) ?? "<invalid>")]
        })

    static let replicaSets = TablePrinter(
        columns: [
            TablePrinters.nameColumn,
            TableColumn(name: "Desired", type: "integer", description: "Replicas the spec asks for."),
            TableColumn(name: "Current", type: "integer", description: "Replicas that exist."),
            TableColumn(name: "Ready", type: "integer", description: "Replicas that are ready."),
            TablePrinters.ageColumn, TablePrinters.containersColumn, TablePrinters.imagesColumn, TablePrinters.selectorColumn,
        ],
        cells: { replicaSet, now in
            let selector = TablePrinters.formatSelector(replicaSet["spec"]?["selector"]).map { $0.isEmpty ? "<none>" : $0 } ?? "<error>"
            return [
                TablePrinters.name(replicaSet),
                .integer(replicaSet.intMember("spec", "replicas") ?? 0),
                .integer(replicaSet.intMember("status", "replicas") ?? 0),
                .integer(replicaSet.intMember("status", "readyReplicas") ?? 0),
                TablePrinters.age(replicaSet, now),
            ] + TablePrinters.containerCells(replicaSet["spec"]?["template"]?["spec"]) + [.string(selector)]
        })
}
