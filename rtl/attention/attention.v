// attention: Edge-MoE reordered attention over one KV head. P query rows are computed in
// parallel; K and V stream from memory once per op (reordered: each K/V slice is used by
// every group of P rows before the next one is read) or once per group of P rows (naive).
// Online softmax (running max and sum per row, rescale exp(x - m) * (1/s) in the A*V pass)
// with rtl/softmax's arithmetic. See README.md for the stream format, the formats, the cycle
// contract and the read counts.
//   HDR -> Q (n beats) -> K (pass 1: scores, running max and sum) -> RCP1/RCP2 per group
//       -> V (pass 2: p = exp(x - m) * r, acc += p * v) -> outputs (one beat per group)
// naive: for each group: K -> RCP1/RCP2 -> V (K and V streamed again for every group).
`timescale 1ns/1ns
module attention #(
    parameter int P = 4,      // query rows computed in parallel (row engines)
    parameter int D = 8,      // largest head dim (Q row and output width)
    parameter int W = 2,      // MACs per row engine per cycle (K/V slice width)
    parameter int RMAX = 8,   // largest number of query rows per op
    parameter int LMAX = 32   // largest number of keys
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    output wire             in_ready,
    input  wire [IW-1:0]    in_data,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire             in_last,   // unused: the header gives the lengths
    /* verilator lint_on UNUSEDSIGNAL */
    output wire             out_valid,
    input  wire             out_ready,
    output wire [OW-1:0]    out_data,
    output wire             out_last,
    output reg  [31:0]      stat_count,  // K/V slices read from memory (input beats of K, V)
    output reg  [31:0]      stat_scores  // score reads: pass-1 feeds + pass-2 buffer reads
);
  localparam int IW = (8 * D > 32) ? 8 * D : 32;
  localparam int OW = P * D * 16;
  localparam int CMAX = D / W;            // slices per key at most
  localparam int GMAX = (RMAX + P - 1) / P;
  localparam int AW = $clog2(LMAX);
  localparam int SW = 17 + AW;            // running sum: unsigned Q.16, <= L
  localparam int PSW = 17 + $clog2(D);    // partial dot product (Q.8)
  localparam int NW = $clog2(RMAX + 1);   // row count
  localparam int GW = $clog2(GMAX + 1);   // group count / index
  localparam int CW = $clog2(CMAX + 1);   // slice count / index
  localparam int LW = $clog2(LMAX + 1);   // key count / index
  localparam int FW = $clog2(GMAX + 1);   // output FIFO count
  localparam logic [2:0] S_HDR = 3'd0, S_Q = 3'd1, S_K = 3'd2, S_RCP1 = 3'd3, S_RCP2 = 3'd4,
                         S_V = 3'd5;

  // ---- softmax arithmetic of rtl/softmax (same tables, same truncations) ----
  function automatic [17:0] exp2_lut(input [5:0] j);
    case (j)
        6'd0: exp2_lut = 18'd65536;   6'd1: exp2_lut = 18'd66250;   6'd2: exp2_lut = 18'd66971;
        6'd3: exp2_lut = 18'd67700;   6'd4: exp2_lut = 18'd68438;   6'd5: exp2_lut = 18'd69183;
        6'd6: exp2_lut = 18'd69936;   6'd7: exp2_lut = 18'd70698;   6'd8: exp2_lut = 18'd71468;
        6'd9: exp2_lut = 18'd72246;   6'd10: exp2_lut = 18'd73032;  6'd11: exp2_lut = 18'd73828;
        6'd12: exp2_lut = 18'd74632;  6'd13: exp2_lut = 18'd75444;  6'd14: exp2_lut = 18'd76266;
        6'd15: exp2_lut = 18'd77096;  6'd16: exp2_lut = 18'd77936;  6'd17: exp2_lut = 18'd78785;
        6'd18: exp2_lut = 18'd79642;  6'd19: exp2_lut = 18'd80510;  6'd20: exp2_lut = 18'd81386;
        6'd21: exp2_lut = 18'd82273;  6'd22: exp2_lut = 18'd83169;  6'd23: exp2_lut = 18'd84074;
        6'd24: exp2_lut = 18'd84990;  6'd25: exp2_lut = 18'd85915;  6'd26: exp2_lut = 18'd86851;
        6'd27: exp2_lut = 18'd87796;  6'd28: exp2_lut = 18'd88752;  6'd29: exp2_lut = 18'd89719;
        6'd30: exp2_lut = 18'd90696;  6'd31: exp2_lut = 18'd91684;  6'd32: exp2_lut = 18'd92682;
        6'd33: exp2_lut = 18'd93691;  6'd34: exp2_lut = 18'd94711;  6'd35: exp2_lut = 18'd95743;
        6'd36: exp2_lut = 18'd96785;  6'd37: exp2_lut = 18'd97839;  6'd38: exp2_lut = 18'd98905;
        6'd39: exp2_lut = 18'd99982;  6'd40: exp2_lut = 18'd101070; 6'd41: exp2_lut = 18'd102171;
        6'd42: exp2_lut = 18'd103283; 6'd43: exp2_lut = 18'd104408; 6'd44: exp2_lut = 18'd105545;
        6'd45: exp2_lut = 18'd106694; 6'd46: exp2_lut = 18'd107856; 6'd47: exp2_lut = 18'd109031;
        6'd48: exp2_lut = 18'd110218; 6'd49: exp2_lut = 18'd111418; 6'd50: exp2_lut = 18'd112631;
        6'd51: exp2_lut = 18'd113858; 6'd52: exp2_lut = 18'd115098; 6'd53: exp2_lut = 18'd116351;
        6'd54: exp2_lut = 18'd117618; 6'd55: exp2_lut = 18'd118899; 6'd56: exp2_lut = 18'd120194;
        6'd57: exp2_lut = 18'd121502; 6'd58: exp2_lut = 18'd122825; 6'd59: exp2_lut = 18'd124163;
        6'd60: exp2_lut = 18'd125515; 6'd61: exp2_lut = 18'd126882; 6'd62: exp2_lut = 18'd128263;
        6'd63: exp2_lut = 18'd129660;
        default: exp2_lut = 18'd0;
    endcase
  endfunction
  function automatic [16:0] recip_lut(input [5:0] j);
    case (j)
        6'd0: recip_lut = 17'd65028;  6'd1: recip_lut = 17'd64035;  6'd2: recip_lut = 17'd63072;
        6'd3: recip_lut = 17'd62138;  6'd4: recip_lut = 17'd61231;  6'd5: recip_lut = 17'd60350;
        6'd6: recip_lut = 17'd59494;  6'd7: recip_lut = 17'd58662;  6'd8: recip_lut = 17'd57852;
        6'd9: recip_lut = 17'd57065;  6'd10: recip_lut = 17'd56299; 6'd11: recip_lut = 17'd55554;
        6'd12: recip_lut = 17'd54828; 6'd13: recip_lut = 17'd54120; 6'd14: recip_lut = 17'd53431;
        6'd15: recip_lut = 17'd52759; 6'd16: recip_lut = 17'd52103; 6'd17: recip_lut = 17'd51464;
        6'd18: recip_lut = 17'd50840; 6'd19: recip_lut = 17'd50231; 6'd20: recip_lut = 17'd49637;
        6'd21: recip_lut = 17'd49056; 6'd22: recip_lut = 17'd48489; 6'd23: recip_lut = 17'd47935;
        6'd24: recip_lut = 17'd47393; 6'd25: recip_lut = 17'd46864; 6'd26: recip_lut = 17'd46346;
        6'd27: recip_lut = 17'd45839; 6'd28: recip_lut = 17'd45344; 6'd29: recip_lut = 17'd44859;
        6'd30: recip_lut = 17'd44384; 6'd31: recip_lut = 17'd43919; 6'd32: recip_lut = 17'd43464;
        6'd33: recip_lut = 17'd43019; 6'd34: recip_lut = 17'd42582; 6'd35: recip_lut = 17'd42154;
        6'd36: recip_lut = 17'd41734; 6'd37: recip_lut = 17'd41323; 6'd38: recip_lut = 17'd40920;
        6'd39: recip_lut = 17'd40525; 6'd40: recip_lut = 17'd40137; 6'd41: recip_lut = 17'd39756;
        6'd42: recip_lut = 17'd39383; 6'd43: recip_lut = 17'd39017; 6'd44: recip_lut = 17'd38657;
        6'd45: recip_lut = 17'd38304; 6'd46: recip_lut = 17'd37958; 6'd47: recip_lut = 17'd37617;
        6'd48: recip_lut = 17'd37283; 6'd49: recip_lut = 17'd36954; 6'd50: recip_lut = 17'd36631;
        6'd51: recip_lut = 17'd36314; 6'd52: recip_lut = 17'd36003; 6'd53: recip_lut = 17'd35696;
        6'd54: recip_lut = 17'd35395; 6'd55: recip_lut = 17'd35099; 6'd56: recip_lut = 17'd34808;
        6'd57: recip_lut = 17'd34521; 6'd58: recip_lut = 17'd34239; 6'd59: recip_lut = 17'd33962;
        6'd60: recip_lut = 17'd33689; 6'd61: recip_lut = 17'd33421; 6'd62: recip_lut = 17'd33157;
        6'd63: recip_lut = 17'd32897;
        default: recip_lut = 17'd0;
    endcase
  endfunction
  // exp(d), d <= 0 in Q.8 -> Q1.16 (rtl/softmax exp_q)
  function automatic [16:0] exp_q(input signed [16:0] dd);
    logic signed [35:0] pr;
    logic signed [23:0] t;
    logic [11:0] fpart;
    logic [17:0] e0, e1, e;
    logic [11:0] sh;
    pr = 36'(dd) * 36'sd94548;
    t = 24'((pr + 36'sd2048) >>> 12);
    fpart = t[11:0];
    e0 = exp2_lut(fpart[11:6]);
    e1 = (fpart[11:6] == 6'd63) ? 18'd131072 : exp2_lut(fpart[11:6] + 6'd1);
    e = e0 + 18'(((e1 - e0) * 18'(fpart[5:0])) >> 6);
    sh = -t[23:12];
    exp_q = (sh > 12'd17) ? 17'd0 : 17'(e >> sh);
  endfunction

  // ---- state ----
  reg [2:0] state;
  reg naive;
  reg [NW-1:0] n_rows;
  reg [LW-1:0] n_keys;
  reg [CW-1:0] n_sl;        // slices per key c (head dim used = c W)
  reg [GW-1:0] n_grp;       // ceil(n_rows / P)
  reg [NW-1:0] qcnt;
  reg [GW-1:0] g;
  reg [LW-1:0] j;
  reg [CW-1:0] t;
  reg [8*W-1:0] kvreg;      // the K/V slice shared by the groups (reordered)

  reg signed [7:0] q[RMAX][D];
  reg signed [PSW-1:0] pscore[RMAX];
  reg signed [15:0] sbuf[RMAX * LMAX];
  reg signed [15:0] m[RMAX];
  reg [SW-1:0] s[RMAX];
  reg [24:0] r[RMAX];
  reg [16:0] preg[RMAX];
  reg signed [31:0] acc[RMAX][D];
  reg [15:0] mant[P];
  reg [16:0] y0[P];
  reg [5:0] kexp[P];

  // output FIFO: up to GMAX groups' outputs held (2^GW slots, pointers wrap)
  reg [OW-1:0] fifo[1 << GW];
  reg [FW-1:0] fcount;
  reg [GW-1:0] frd, fwr;
  reg flast[1 << GW];

  wire last_t = (t == n_sl - 1'b1);
  wire last_j = (j == n_keys - 1'b1);
  wire last_g = (g == n_grp - 1'b1);
  // reordered: the K/V slice arrives with group 0 and is reused by groups 1..G-1
  wire need_in = (state == S_K || state == S_V) && (naive || g == 0);
  wire fin_slice = (state == S_V) && last_j && last_t;  // this cycle completes a group
  wire fifo_full = (fcount == FW'(GMAX));
  assign in_ready = (state == S_HDR) || (state == S_Q) ||
                    (need_in && !(fin_slice && fifo_full));
  wire in_fire = in_valid && in_ready;
  wire step = (state == S_K || state == S_V) && (need_in ? in_fire : !(fin_slice && fifo_full));
  wire [8*W-1:0] kv = need_in ? in_data[8*W-1:0] : kvreg;

  assign out_valid = (fcount != 0);
  assign out_data = fifo[frd];
  assign out_last = flast[frd];
  wire out_fire = out_valid && out_ready;

  // ---- per-engine combinational datapath (row g P + i) ----
  reg signed [PSW-1:0] ps_new[P];
  reg signed [15:0] score[P];
  reg [16:0] ex1[P];
  reg [SW+16:0] sprod[P];
  reg gt[P];
  reg [16:0] pnow[P];
  reg signed [31:0] acc_new[P][W];
  reg [5:0] msb[P];
  reg [15:0] s_norm[P];
  reg [49:0] y1[P];
  reg valid_row[P];
  reg [OW-1:0] out_word;

  always @* begin
    for (int i = 0; i < P; i++) begin
      automatic int row = int'(g) * P + i;
      automatic int rr = (row < RMAX) ? row : 0;
      automatic logic signed [PSW-1:0] dot = 0;
      automatic logic signed [16:0] dx;
      automatic logic signed [15:0] x;
      automatic logic [40:0] pm;
      automatic logic [32:0] prod, two_minus;
      valid_row[i] = row < int'(n_rows);
      for (int w = 0; w < W; w++) begin
        automatic int e = int'(t) * W + w;
        automatic logic signed [7:0] qe = (e < D) ? q[rr][(e < D) ? e : 0] : 8'sd0;
        automatic logic signed [7:0] ke = kv[8*w +: 8];
        dot = dot + PSW'(16'(qe * ke));
      end
      ps_new[i] = (t == 0) ? dot : pscore[rr] + dot;
      score[i] = (ps_new[i] > PSW'(32767)) ? 16'sd32767 :
                 (ps_new[i] < -PSW'(32768)) ? -16'sd32768 : 16'(ps_new[i]);
      // pass 1: online max and sum
      gt[i] = score[i] > m[rr];
      dx = gt[i] ? 17'(m[rr]) - 17'(score[i]) : 17'(score[i]) - 17'(m[rr]);
      // pass 2: p = exp(x - m) r
      x = sbuf[rr * LMAX + int'(j)];
      if (state == S_V) dx = 17'(x) - 17'(m[rr]);
      ex1[i] = exp_q(dx);
      sprod[i] = (SW+17)'(s[rr]) * (SW+17)'(ex1[i]);
      pm = 41'(ex1[i]) * 41'(r[rr]);
      pnow[i] = (t == 0) ? 17'(pm >> 24) : preg[rr];
      for (int w = 0; w < W; w++) begin
        automatic int e = int'(t) * W + w;
        automatic logic signed [7:0] ve = kv[8*w +: 8];
        automatic logic signed [31:0] a = (e < D) ? acc[rr][(e < D) ? e : 0] : 32'sd0;
        acc_new[i][w] = a + 32'(26'($signed({1'b0, pnow[i]})) * 26'(ve));
      end
      // reciprocal of s
      msb[i] = 0;
      for (int b = 16; b < SW; b++) if (s[rr][b]) msb[i] = 6'(b - 16);
      s_norm[i] = 16'(s[rr] >> (msb[i] + 6'd1));
      prod = 33'(mant[i]) * 33'(y0[i]);
      two_minus = 33'h1_0000_0000 - prod;
      y1[i] = (50'(y0[i]) * 50'(two_minus)) >> 23;
    end
    // the group's outputs: acc >> 12 (Q.20 -> Q.8), this cycle's slice included
    out_word = 0;
    /* verilator lint_off UNUSEDSIGNAL */
    for (int i = 0; i < P; i++) begin
      automatic int row = int'(g) * P + i;
      automatic int rr = (row < RMAX) ? row : 0;
      for (int e = 0; e < D; e++) begin
        automatic logic signed [31:0] a = acc[rr][e];
        for (int w = 0; w < W; w++)
          if (int'(t) * W + w == e) a = acc_new[i][w];
        if (valid_row[i]) out_word[16 * (i * D + e) +: 16] = 16'(a >>> 12);
      end
    end
    /* verilator lint_on UNUSEDSIGNAL */
  end

  integer kv_reads_step, score_reads_step;
  always @* begin
    kv_reads_step = (step && need_in) ? 1 : 0;
    score_reads_step = 0;
    if (step && ((state == S_K && last_t) || (state == S_V && t == 0)))
      for (int i = 0; i < P; i++) if (valid_row[i]) score_reads_step = score_reads_step + 1;
  end

  always @(posedge clk) begin
    if (rst) begin
      state <= S_HDR; naive <= 1'b0; n_rows <= 0; n_keys <= 0; n_sl <= 0; n_grp <= 0;
      qcnt <= 0; g <= 0; j <= 0; t <= 0; kvreg <= 0;
      fcount <= 0; frd <= 0; fwr <= 0;
      stat_count <= 0; stat_scores <= 0;
    end else begin
      stat_count <= stat_count + 32'(kv_reads_step);
      stat_scores <= stat_scores + 32'(score_reads_step);
      // output FIFO pop (a push below may happen in the same cycle)
      if (out_fire) frd <= frd + 1'b1;
      fcount <= fcount - FW'(out_fire) + FW'(step && fin_slice);
      case (state)
        S_HDR: if (in_fire) begin
          n_rows <= NW'(in_data[7:0]);
          n_keys <= LW'(in_data[23:8]);
          n_sl <= CW'(in_data[27:24]);
          naive <= in_data[28];
          n_grp <= GW'((int'(in_data[7:0]) + P - 1) / P);
          qcnt <= 0;
          for (int a = 0; a < RMAX; a++)
            for (int e = 0; e < D; e++) acc[a][e] <= 0;
          state <= S_Q;
        end
        S_Q: if (in_fire) begin
          for (int e = 0; e < D; e++) q[int'(qcnt)][e] <= in_data[8*e +: 8];
          if (qcnt == n_rows - 1'b1) begin
            state <= S_K; g <= 0; j <= 0; t <= 0;
          end
          qcnt <= qcnt + 1'b1;
        end
        S_K: if (step) begin
          if (need_in) kvreg <= in_data[8*W-1:0];
          for (int i = 0; i < P; i++) begin
            automatic int row = int'(g) * P + i;
            if (row < RMAX) begin
              if (!last_t) begin
                pscore[row] <= ps_new[i];
              end else begin
                sbuf[row * LMAX + int'(j)] <= score[i];
                if (j == 0 || gt[i]) m[row] <= score[i];
                if (j == 0) s[row] <= SW'(65536);
                else if (gt[i]) s[row] <= SW'(sprod[i] >> 16) + SW'(65536);
                else s[row] <= s[row] + SW'(ex1[i]);
              end
            end
          end
          if (naive) begin
            if (!last_t) t <= t + 1'b1;
            else begin
              t <= 0;
              if (!last_j) j <= j + 1'b1;
              else begin j <= 0; state <= S_RCP1; end
            end
          end else begin
            if (!last_g) g <= g + 1'b1;
            else begin
              g <= 0;
              if (!last_t) t <= t + 1'b1;
              else begin
                t <= 0;
                if (!last_j) j <= j + 1'b1;
                else begin j <= 0; state <= S_RCP1; end
              end
            end
          end
        end
        S_RCP1: begin
          for (int i = 0; i < P; i++) begin
            mant[i] <= s_norm[i];
            y0[i] <= recip_lut(s_norm[i][14:9]);
            kexp[i] <= msb[i];
          end
          state <= S_RCP2;
        end
        S_RCP2: begin
          for (int i = 0; i < P; i++) begin
            automatic int row = int'(g) * P + i;
            if (row < RMAX) r[row] <= 25'(y1[i] >> kexp[i]);
          end
          if (naive || last_g) begin
            state <= S_V;
            if (!naive) g <= 0;
          end else begin
            g <= g + 1'b1;
            state <= S_RCP1;
          end
        end
        S_V: if (step) begin
          if (need_in) kvreg <= in_data[8*W-1:0];
          for (int i = 0; i < P; i++) begin
            automatic int row = int'(g) * P + i;
            if (row < RMAX) begin
              if (t == 0) preg[row] <= pnow[i];
              for (int w = 0; w < W; w++)
                if (int'(t) * W + w < D) acc[row][int'(t) * W + w] <= acc_new[i][w];
            end
          end
          if (fin_slice) begin
            fifo[fwr] <= out_word;
            flast[fwr] <= last_g;
            fwr <= fwr + 1'b1;
          end
          if (naive) begin
            if (!last_t) t <= t + 1'b1;
            else begin
              t <= 0;
              if (!last_j) j <= j + 1'b1;
              else begin
                j <= 0;
                if (last_g) state <= S_HDR;
                else begin g <= g + 1'b1; state <= S_K; end
              end
            end
          end else begin
            if (!last_g) g <= g + 1'b1;
            else begin
              g <= 0;
              if (!last_t) t <= t + 1'b1;
              else begin
                t <= 0;
                if (!last_j) j <= j + 1'b1;
                else begin j <= 0; state <= S_HDR; end
              end
            end
          end
        end
        default: state <= S_HDR;
      endcase
    end
  end
endmodule
