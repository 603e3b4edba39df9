"""Drive a pipeyard server with kfp 1.8's own kfp.Client; run by the kfp 1.8 venv.

Usage: python client_script.py HOST FEATURES_YAML MARKER_DIR
Prints one JSON document with what the client saw; the pytest side asserts on it.
"""
import json
import sys

import kfp
import kfp.components as comp
from kfp import dsl


@comp.create_component_from_func
def process_data_op():
    print("Processing Data")


@comp.create_component_from_func
def train_op():
    print("Training ML Model")


@dsl.pipeline(name="sequential-pipeline", description="A pipeline for Medium Followers.")
def sequential_pipeline():
    process_task = process_data_op()
    train_task = train_op()
    train_task.after(process_task)


def main():
    host, features_yaml, marker_dir = sys.argv[1:4]
    out = {}
    client = kfp.Client(host=host)  # asks /apis/v1beta1/healthz
    out["healthz"] = client.get_kfp_healthz().multi_user
    result = client.create_run_from_pipeline_func(sequential_pipeline, arguments={})
    done = client.wait_for_run_completion(result.run_id, timeout=600)
    out["sequential"] = {"status": done.run.status, "run_id": result.run_id}
    manifest = json.loads(done.pipeline_runtime.workflow_manifest)
    out["sequential"]["nodes"] = sorted(
        (n["displayName"], n["phase"]) for n in manifest["status"]["nodes"].values() if n["type"] == "Pod")

    pipeline = client.upload_pipeline(features_yaml, pipeline_name="v1-features-uploaded",
                                      description="uploaded by kfp 1.8")
    out["pipeline"] = {"id": pipeline.id, "name": pipeline.name,
                       "parameters": sorted(p.name for p in pipeline.parameters or []),
                       "default_version": pipeline.default_version.id if pipeline.default_version else None}
    version = client.upload_pipeline_version(features_yaml, pipeline_version_name="v2-of-features",
                                             pipeline_id=pipeline.id)
    out["version"] = {"name": version.name, "refs": [r.key.id for r in version.resource_references]}
    versions = client.list_pipeline_versions(pipeline.id, page_size=10)
    out["versions"] = sorted(v.name for v in versions.versions)
    out["pipelines"] = sorted(p.name for p in client.list_pipelines(page_size=100).pipelines)

    exp = client.create_experiment("v1-experiment", description="for v1 runs")
    again = client.create_experiment("v1-experiment")
    out["experiment"] = {"same": again.id == exp.id, "by_name": client.get_experiment(experiment_name="v1-experiment").id == exp.id}
    run = client.run_pipeline(exp.id, "features-from-upload", pipeline_id=pipeline.id,
                              params={"count": 2, "word": "yo", "marker_dir": marker_dir})
    finished = client.wait_for_run_completion(run.id, timeout=600)
    manifest = json.loads(finished.pipeline_runtime.workflow_manifest)
    nodes = manifest["status"]["nodes"].values()
    out["features"] = {
        "status": finished.run.status,
        "params": {p.name: p.value for p in finished.run.pipeline_spec.parameters},
        "refs": sorted((r.key.type, r.relationship) for r in finished.run.resource_references),
        "skipped": sorted(n["displayName"] for n in nodes if n["phase"] == "Skipped"),
        "succeeded_pods": sum(1 for n in nodes if n["type"] == "Pod" and n["phase"] == "Succeeded"),
        "produce_total": [p["value"] for n in nodes if n["displayName"] == "produce"
                          for p in n.get("outputs", {}).get("parameters", []) if p["name"] == "produce-total"],
    }
    listed = client.list_runs(experiment_id=exp.id, page_size=10, sort_by="created_at desc")
    out["runs_in_experiment"] = [r.name for r in listed.runs]
    all_runs = client.list_runs(page_size=1)
    out["paging"] = {"size": len(all_runs.runs), "total": all_runs.total_size, "next": bool(all_runs.next_page_token)}
    out["get_run_name"] = client.get_run(run.id).run.name

    job = client.create_recurring_run(exp.id, "nightly-features", cron_expression="0 0 3 * * *",
                                      pipeline_id=pipeline.id, params={"count": 1}, enabled=False)
    out["job"] = {"name": job.name, "enabled": job.enabled, "cron": job.trigger.cron_schedule.cron}
    out["jobs"] = [j.name for j in client.list_recurring_runs(experiment_id=exp.id).jobs]
    out["job_get"] = client.get_recurring_run(job.id).name
    client.delete_job(job.id)
    out["jobs_after_delete"] = len(client.list_recurring_runs(experiment_id=exp.id).jobs or [])
    out["experiments"] = sorted(e.name for e in client.list_experiments(page_size=50).experiments)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
