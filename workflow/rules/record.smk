# The run record: SHA-256 of every input file, the resolved config, software versions and
# seeds (results/run_record.json). Runs after every other output, so it is rewritten whenever
# any result is.


rule run_record:
    input:
        unpack(get_run_record_inputs),
        outputs=get_final_outputs(),
        lib=get_library_sources("scripts/run_record.py"),
    output:
        record=report(
            "results/run_record.json",
            caption="../report/run_record.rst",
            category="7. Run record",
            labels={"file": "run record (JSON)"},
        ),
    log:
        "logs/run_record/all.log",
    conda:
        "../../envs/deseq2.yaml"
    threads: 2
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        input_kinds=get_run_record_input_kinds(),
        config=config,
        seeds={"seed": config["seed"]},
        tools=get_external_tools(),
    script:
        "../../scripts/run_record.py"
