package ecomdw.emulation;

import java.io.IOException;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.JobContext;
import org.apache.hadoop.mapreduce.JobStatus;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.lib.output.FileOutputCommitter;

/**
 * Spark writes each task's files straight to their destination, as Glue's EMRFS S3-optimized
 * committer does: no task attempt folder and no rename, which on S3 is a copy and a delete per
 * file and a storm of existence checks.
 *
 * <p>It is a FileOutputCommitter whose work path is its output path, with nothing to set up or
 * commit. It must be one: Spark's commit protocol records the partitions a dynamic partition
 * overwrite replaces only for a FileOutputCommitter, and gives it the job's staging folder as
 * its output path, from which the protocol moves the partitions into place. Any other committer
 * turns `partitionOverwriteMode=dynamic` into an append.
 */
public final class DirectOutputCommitter extends FileOutputCommitter {
    private final Path output;

    public DirectOutputCommitter(Path output, TaskAttemptContext task) throws IOException {
        super(output, task);
        this.output = output;
    }

    @Override
    public Path getWorkPath() {
        return output;
    }

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

    @Override
    public void commitJob(JobContext job) {}

    @Override
    public void abortJob(JobContext job, JobStatus.State state) {}

    @Override
    public void cleanupJob(JobContext job) {}
}
