package ecomdw.emulation;

import org.apache.hadoop.mapreduce.JobContext;
import org.apache.hadoop.mapreduce.OutputCommitter;
import org.apache.hadoop.mapreduce.TaskAttemptContext;

/**
 * Spark writes each task's files straight to their destination, as Glue's EMRFS S3-optimized
 * committer does: no task attempt folder and no rename, which on S3 is a copy and a delete per
 * file and a storm of existence checks. Spark's commit protocol gives a committer that is not a
 * FileOutputCommitter the destination itself as the task's folder, so nothing is left to commit.
 */
public final class DirectOutputCommitter extends OutputCommitter {
    @Override
    public void setupJob(JobContext job) {}

    @Override
    public void setupTask(TaskAttemptContext task) {}

    @Override
    public boolean needsTaskCommit(TaskAttemptContext task) {
        return false;
    }

    @Override
    public void commitTask(TaskAttemptContext task) {}

    @Override
    public void abortTask(TaskAttemptContext task) {}
}
