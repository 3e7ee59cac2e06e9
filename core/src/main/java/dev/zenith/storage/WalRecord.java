package dev.zenith.storage;

import dev.zenith.Lsn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One WAL record, decoded as Postgres's DecodeXLogRecord does: its header (transaction id, resource
 * manager, info bits), the blocks it touches (each a relation file, fork and block number) and its main
 * data. Block images and per-block data are skipped over, not kept: what a record did to which relation
 * is in the header and the main data. Immutable.
 *
 * @param lsn where the record starts
 * @param end where it ends (the next record starts at the next multiple of 8)
 * @param magic the WAL page format of the server that wrote it, which tells Postgres versions apart
 */
public record WalRecord(Lsn lsn, Lsn end, int xid, int rmid, int info, List<Block> blocks, ByteBuffer mainData, int magic) {

    /** A relation's files: tablespace, database (0: a shared catalog) and relation file number. */
    public record RelFile(long tablespace, long database, long relNumber) {

        /** The 12 bytes of a RelFileLocator at {@code at}. */
        public static RelFile read(ByteBuffer b, int at) {
            return new RelFile(Integer.toUnsignedLong(b.getInt(at)), Integer.toUnsignedLong(b.getInt(at + 4)),
                    Integer.toUnsignedLong(b.getInt(at + 8)));
        }
    }

    /** A block the record changes; {@code fork} 0 is the main fork, where a table's rows are. */
    public record Block(int id, RelFile rel, int fork, long block) {
    }

    public static final int RM_XLOG = 0;
    public static final int RM_XACT = 1;
    public static final int RM_SMGR = 2;
    public static final int RM_STANDBY = 8;
    public static final int RM_HEAP2 = 9;
    public static final int RM_HEAP = 10;
    /** The kind of a transaction record ({@link #RM_XACT}): its info bits under this mask. */
    public static final int XACT_OPMASK = 0x70;
    public static final int XACT_COMMIT = 0x00;

    static final int HEADER = 24;
    private static final int BLOCK_ID_DATA_SHORT = 255;
    private static final int BLOCK_ID_DATA_LONG = 254;
    private static final int BLOCK_ID_ORIGIN = 253;
    private static final int BLOCK_ID_TOPLEVEL_XID = 252;
    private static final int MAX_BLOCK_ID = 32;
    private static final int BKPBLOCK_FORK_MASK = 0x0f;
    private static final int BKPBLOCK_HAS_IMAGE = 0x10;
    private static final int BKPBLOCK_SAME_REL = 0x80;
    private static final int BKPIMAGE_HAS_HOLE = 0x01;
    private static final int BKPIMAGE_COMPRESSED = 0x04 | 0x08 | 0x10;

    /** Decodes a whole record (header included) that starts at {@code lsn}; null when its headers do not add up. */
    static WalRecord decode(Lsn lsn, Lsn end, byte[] bytes, int magic) {
        try {
            return decodeChecked(lsn, end, bytes, magic);
        } catch (IndexOutOfBoundsException e) {
            return null;
        }
    }

    private static WalRecord decodeChecked(Lsn lsn, Lsn end, byte[] bytes, int magic) {
        ByteBuffer r = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        List<Block> blocks = new ArrayList<>(2);
        int p = HEADER;
        int payload = 0; // images and block data, which follow the headers in order
        int mainLength = 0;
        RelFile rel = null;
        // headers go on while more bytes remain than the data they announced, as in DecodeXLogRecord
        while (bytes.length - p > payload + mainLength) {
            int id = bytes[p] & 0xff;
            if (id == BLOCK_ID_DATA_SHORT) {
                mainLength = bytes[p + 1] & 0xff;
                p += 2;
            } else if (id == BLOCK_ID_DATA_LONG) {
                mainLength = r.getInt(p + 1);
                p += 5;
            } else if (id == BLOCK_ID_ORIGIN) {
                p += 3;
            } else if (id == BLOCK_ID_TOPLEVEL_XID) {
                p += 5;
            } else if (id <= MAX_BLOCK_ID && mainLength == 0) {
                int forkFlags = bytes[p + 1] & 0xff;
                payload += Short.toUnsignedInt(r.getShort(p + 2));
                p += 4;
                if ((forkFlags & BKPBLOCK_HAS_IMAGE) != 0) {
                    payload += Short.toUnsignedInt(r.getShort(p));
                    int bimgInfo = bytes[p + 4] & 0xff;
                    p += 5;
                    if ((bimgInfo & BKPIMAGE_HAS_HOLE) != 0 && (bimgInfo & BKPIMAGE_COMPRESSED) != 0) {
                        p += 2;
                    }
                }
                if ((forkFlags & BKPBLOCK_SAME_REL) == 0) {
                    rel = RelFile.read(r, p);
                    p += 12;
                }
                if (rel == null) {
                    return null;
                }
                blocks.add(new Block(id, rel, forkFlags & BKPBLOCK_FORK_MASK, Integer.toUnsignedLong(r.getInt(p))));
                p += 4;
            } else {
                return null;
            }
        }
        int mainStart = p + payload;
        if (mainLength < 0 || mainStart + mainLength != bytes.length) {
            return null;
        }
        ByteBuffer main = r.slice(mainStart, mainLength).order(ByteOrder.LITTLE_ENDIAN);
        return new WalRecord(lsn, end, r.getInt(4), bytes[17] & 0xff, bytes[16] & 0xff, List.copyOf(blocks), main, magic);
    }

    public int mainLength() {
        return mainData.capacity();
    }
}
