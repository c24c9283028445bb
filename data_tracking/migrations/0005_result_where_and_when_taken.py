"""Each result records where and when it was taken: school, grade, class and teacher of record,
and the typical growth, goal scores and projections the file gives.

Existing results never recorded their school or grade. They are filled here from the student's
**current** school and grade — the best that can be known now, and wrong for a student who has
moved or been promoted since. Re-import the original files to correct them: an import writes the
school and grade of each test from the file.
"""

import django.db.models.deletion
from django.db import migrations, models

GRADE_CHOICES = [
    ("PK", "PK"),
    ("K", "Kindergarten"),
    *[(str(grade), str(grade)) for grade in range(1, 13)],
]

FILL_FROM_STUDENT = """
UPDATE data_tracking_assessmentresult
SET school_id = (
        SELECT st.school_id FROM data_tracking_student st
        WHERE st.id = data_tracking_assessmentresult.student_id
    ),
    grade = (
        SELECT st.grade FROM data_tracking_student st
        WHERE st.id = data_tracking_assessmentresult.student_id
    )
"""


def decimal_field():
    return models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True)


class Migration(migrations.Migration):
    dependencies = [
        ("data_tracking", "0004_import_attempts"),
        ("teams", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessmentresult",
            name="school",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="results",
                to="teams.school",
            ),
        ),
        migrations.AddField(
            model_name="assessmentresult",
            name="grade",
            field=models.CharField(choices=GRADE_CHOICES, default="", max_length=2),
            preserve_default=False,
        ),
        migrations.RunSQL(FILL_FROM_STUDENT, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="assessmentresult",
            name="school",
            field=models.ForeignKey(
                help_text="Where it was taken.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="results",
                to="teams.school",
            ),
        ),
        migrations.AlterField(
            model_name="assessmentresult",
            name="grade",
            field=models.CharField(
                choices=GRADE_CHOICES,
                help_text="The student's grade when tested.",
                max_length=2,
            ),
        ),
        migrations.AddField(
            model_name="assessmentresult",
            name="section",
            field=models.ForeignKey(
                blank=True,
                help_text="The class of record, where the file says so.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="results",
                to="data_tracking.section",
            ),
        ),
        migrations.AddField(
            model_name="assessmentresult",
            name="teacher",
            field=models.ForeignKey(
                blank=True,
                help_text="The teacher of record, where the file says so.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="teams.staffmember",
            ),
        ),
        migrations.AddField(
            model_name="assessmentresult", name="typical_fall_to_winter", field=decimal_field()
        ),
        migrations.AddField(
            model_name="assessmentresult", name="typical_fall_to_spring", field=decimal_field()
        ),
        migrations.AddField(
            model_name="assessmentresult", name="typical_winter_to_spring", field=decimal_field()
        ),
        migrations.AddField(
            model_name="assessmentresult", name="typical_spring_to_spring", field=decimal_field()
        ),
        migrations.AddField(
            model_name="assessmentresult", name="typical_fall_to_fall", field=decimal_field()
        ),
        migrations.AddField(
            model_name="assessmentresult",
            name="goals",
            field=models.JSONField(
                blank=True,
                default=list,
                db_default=[],  # rows a COPY merge writes without them
                help_text="Goal (strand) scores: [{name, rit, adjective}], in the file's order.",
            ),
        ),
        migrations.AddField(
            model_name="assessmentresult",
            name="projections",
            field=models.JSONField(
                blank=True,
                default=list,
                db_default=[],  # rows a COPY merge writes without them
                help_text="Projected proficiency: [{study, level}], as the file states them.",
            ),
        ),
        migrations.AddIndex(
            model_name="assessmentresult",
            index=models.Index(fields=["school", "assessment"], name="result_by_school"),
        ),
    ]
