{#
    The one shape every staging transform produces, and the union that pads each
    transform's columns to it. A transform selects only the columns it has.

    record_kind is 'run' (a run of an agent on a task), 'signal' (a verdict on a run named
    by run_id) or 'comparison' (a preference between two runs). problem, when set, says
    why the line cannot be used, as 'skip_reason:detail'; the rest of that row is ignored.
#}

{% macro staged_columns() -%}
    {{ return({
        'source_format': 'varchar',
        'source_file': 'varchar',
        'source_line': 'bigint',
        'record_kind': 'varchar',
        'problem': 'varchar',
        'run_id': 'varchar',
        'task_id': 'varchar',
        'task_kind': 'varchar',
        'instruction': 'varchar',
        'task_messages': 'json',
        'output_text': 'varchar',
        'conversation': 'json',
        'tool_calls': 'json',
        'lessons': 'varchar[]',
        'model': 'varchar',
        'agent': 'varchar',
        'status': 'varchar',
        'started_at': 'varchar',
        'ended_at': 'varchar',
        'extra_provenance': 'struct(file varchar, line bigint)[]',
        'signals': signal_type() ~ '[]',
        'run_a': 'varchar',
        'run_b': 'varchar',
        'preferred': 'varchar',
        'judge': 'varchar',
        'comparison_note': 'varchar',
    }) }}
{%- endmacro %}


{#
    A quality signal on a run. kind is one of: check (passed), reward (value in 0..1),
    score (value out of scale_max), verdict (accept / reject / partial), handoff (the run
    ended with a hand-off to a human), judge_error (the judge failed to judge).
#}
{% macro signal_type() -%}
    struct(
        kind varchar, name varchar, passed boolean, value double, scale_max double,
        verdict varchar, judge varchar, detail varchar
    )
{%- endmacro %}


{% macro union_staged(relations) %}
    {%- set columns = staged_columns() -%}
    {%- for relation in relations %}
        {%- set present = [] -%}
        {%- if execute -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
                {%- do present.append(column.name | lower) -%}
            {%- endfor -%}
        {%- endif %}
    select
        {%- for name, data_type in columns.items() %}
        {% if name in present %}{{ name }}::{{ data_type }}{% else %}null::{{ data_type }}{% endif %} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
{% endmacro %}


{#
    The first problem with a line's fields, as 'reason:field', or null. Each check is a
    dict: path, types (JSON type names allowed), required (default true).
#}
{% macro field_problems(doc, checks) -%}
    coalesce(
    {%- for check in checks %}
        case
            {%- if check.get('required', true) %}
            when json_type({{ doc }}, '{{ check.path }}') is null
                or json_type({{ doc }}, '{{ check.path }}') = 'NULL'
                then 'missing_required_field:{{ check.path[2:] }}'
            {%- endif %}
            when json_type({{ doc }}, '{{ check.path }}') not in (
                'NULL', {%- for t in check.types %}'{{ t }}'{{ ", " if not loop.last }}{% endfor -%}
            )
                then 'wrong_type:{{ check.path[2:] }}'
        end{{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}
