-- The project's own review stream: a human's or a judge model's verdict and/or score on
-- one run. A verdict of "escalate" is a hand-off to a human; a verdict of "error" or a
-- score of -1 means the judge failed.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'canonical_reviews' and line_status = 'ok'

),

checked as (

    select
        *,
        coalesce(
            {{ field_problems('line_json', [
                {'path': '$.run_id', 'types': ['VARCHAR']},
                {'path': '$.reviewer', 'types': ['VARCHAR']},
                {'path': '$.reviewer_kind', 'types': ['VARCHAR'], 'required': false},
                {'path': '$.verdict', 'types': ['VARCHAR'], 'required': false},
                {'path': '$.score', 'types': ['UBIGINT', 'BIGINT', 'DOUBLE'],
                 'required': false},
                {'path': '$.scale_max', 'types': ['UBIGINT', 'BIGINT', 'DOUBLE'],
                 'required': false},
                {'path': '$.comment', 'types': ['VARCHAR'], 'required': false},
            ]) }},
            case
                when json_type(line_json, '$.verdict') is null
                    and json_type(line_json, '$.score') is null
                    then 'missing_required_field:verdict or score'
                when json_type(line_json, '$.score') in ('UBIGINT', 'BIGINT', 'DOUBLE')
                    and {{ json_number('line_json', '$.score') }} is null
                    then 'wrong_type:score is not a finite number'
                when {{ json_text('line_json', '$.verdict') }}
                    not in ('accept', 'reject', 'partial', 'escalate', 'error')
                    then 'wrong_type:verdict is not accept, reject, partial, escalate or error'
                when trim({{ json_text('line_json', '$.reviewer') }}) = ''
                    then 'missing_required_field:reviewer is empty'
                when json_type(line_json, '$.scale_max') is not null
                    and not coalesce({{ json_number('line_json', '$.scale_max') }} > 0, false)
                    then 'wrong_type:scale_max is not a number above 0'
                when {{ json_number('line_json', '$.score') }} <> -1 and not (
                    {{ json_number('line_json', '$.score') }} between 0
                        and coalesce({{ json_number('line_json', '$.scale_max') }}, 10)
                ) then 'wrong_type:score is outside 0..scale_max (and not -1)'
            end
        ) as problem,
        {{ json_text('line_json', '$.reviewer') }} as reviewer,
        {{ json_text('line_json', '$.verdict') }} as verdict,
        {{ json_number('line_json', '$.score') }} as score,
        coalesce({{ json_number('line_json', '$.scale_max') }}, 10) as scale_max
    from lines

)

select
    source_format,
    source_file,
    source_line,
    'signal' as record_kind,
    problem,
    line_json ->> '$.run_id' as run_id,
    list_filter([
        case when verdict = 'error' or score = -1
            then {{ signal('judge_error', 'reviewer', judge='reviewer',
                           detail="'the reviewer reported an error'") }} end,
        case when verdict = 'escalate'
            then {{ signal('handoff', 'reviewer', judge='reviewer',
                           detail="'escalated to a human'") }} end,
        case when verdict in ('accept', 'reject', 'partial')
            then {{ signal('verdict', 'reviewer', verdict='verdict', judge='reviewer',
                           detail=json_text('line_json', '$.comment')) }} end,
        case when score is not null and score <> -1
            then {{ signal('score', 'reviewer', value='score', scale_max='scale_max',
                           judge='reviewer', detail=json_text('line_json', '$.comment')) }}
        end
    ], lambda s: s is not null) as signals
from checked
