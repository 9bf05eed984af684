// Reads SequenceFiles with Hadoop's own reader (org.apache.hadoop.io) and
// prints, per file, a header line and one line per record:
//   # <file> <key class> <value class> compressed=<bool> block=<bool>
//   <key>\t<value as UTF-8>
// A file Hadoop cannot read makes it exit non-zero with Hadoop's error.
import java.nio.charset.StandardCharsets;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.BytesWritable;
import org.apache.hadoop.io.SequenceFile;
import org.apache.hadoop.io.Writable;
import org.apache.hadoop.util.ReflectionUtils;

public class SequenceFileDump {
    public static void main(String[] args) throws Exception {
        Configuration conf = new Configuration();
        StringBuilder out = new StringBuilder();
        for (String file : args) {
            try (SequenceFile.Reader reader =
                    new SequenceFile.Reader(conf, SequenceFile.Reader.file(new Path("file://" + file)))) {
                out.append("# ").append(file).append(' ')
                        .append(reader.getKeyClassName()).append(' ')
                        .append(reader.getValueClassName())
                        .append(" compressed=").append(reader.isCompressed())
                        .append(" block=").append(reader.isBlockCompressed()).append('\n');
                Writable key = (Writable) ReflectionUtils.newInstance(reader.getKeyClass(), conf);
                Writable value = (Writable) ReflectionUtils.newInstance(reader.getValueClass(), conf);
                while (reader.next(key, value)) {
                    String text = value instanceof BytesWritable
                            ? new String(((BytesWritable) value).copyBytes(), StandardCharsets.UTF_8)
                            : value.toString();
                    out.append(key).append('\t').append(text).append('\n');
                }
            }
        }
        System.out.print(out);
    }
}
