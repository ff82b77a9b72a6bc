{# One row per (source_file, source_line): the line table neither loses nor doubles a line. #}
{% test unique_source_lines(model) %}

    select source_file, source_line, count(*) as copies
    from {{ model }}
    group by source_file, source_line
    having count(*) > 1

{% endtest %}
