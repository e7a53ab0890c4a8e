// systolic_tile_pp: R x C weight-stationary int8 MAC array with ping-pong (double-buffered)
// weights (see README.md, "Double-buffered variant"). Two input streams:
//   w_*  : weight rows, R beats per fold (beat i = weight row i: C int8 weights, column j in
//          bits [8j+7:8j]); they fill the bank that is not in use.
//   in_* : activation rows, M beats per fold (row i of the K-tile in bits [8i+7:8i]), in_last
//          on the M-th; a fold's rows are accepted once its weight bank is full.
// Output as systolic_tile: M beats per fold, C accumulators of ACC_W bits, wrapping.
// The bank a row multiplies with travels with its wavefront (tpipe), so the next fold's rows
// follow the previous fold's without a drain gap; a weight row is written one column per
// cycle (column j, j cycles after its handshake), right behind the last wavefront of the
// fold that used the bank, so a bank is free again from the cycle after its fold's last row.
`timescale 1ns/1ns
module systolic_tile_pp #(
    parameter int R = 4,            // array rows: K-tile, 2..16
    parameter int C = 4,            // array columns: N-tile, 2..16
    parameter int ACC_W = 32        // accumulator bits, 16..32
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               w_valid,
    output wire               w_ready,
    input  wire [8*C-1:0]     w_data,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire [8*R-1:0]     in_data,
    input  wire               in_last,
    output wire               out_valid,
    input  wire               out_ready,
    output wire [C*ACC_W-1:0] out_data,
    output wire               out_last,
    output reg  [31:0]        stat_count   // accepted beats on both input streams
);
  localparam int D = R + C - 2;            // wavefront hops from PE(0,0) to PE(R-1,C-1)
  localparam int RW = (R > 1) ? $clog2(R) : 1;

  reg [1:0] full;                          // bank b holds a complete weight tile
  reg lbank;                               // bank the weight stream fills
  reg cbank;                               // bank the activation stream multiplies with
  reg [RW-1:0] wcnt;                       // weight row being loaded
  reg [D:0] vpipe;                         // wavefront valid bits, vpipe[d] at diagonal d+1
  reg [D:0] lpipe;                         // wavefront last bits
  reg [D-1:0] tpipe;                       // wavefront bank bits

  wire adv = !(out_valid && !out_ready);   // global enable
  assign w_ready = adv && !full[lbank];
  assign in_ready = adv && full[cbank];
  wire w_fire = w_valid && w_ready;
  wire act_fire = in_valid && in_ready;

  assign out_valid = vpipe[D];
  assign out_last = lpipe[D];

  // Weight write port of column j: column 0 in the handshake cycle, column j j cycles later.
  wire          wc_v [C];
  wire          wc_b [C];
  wire [RW-1:0] wc_r [C];
  wire [7:0]    wc_d [C];

  wire signed [7:0] a_in [R][C];           // activation entering PE(i,j)
  reg  signed [7:0] a_q  [R][C];           // activation register of PE(i,j) (passed right)
  reg  signed [7:0] w0_q [R][C];           // weight bank 0
  reg  signed [7:0] w1_q [R][C];           // weight bank 1
  reg  signed [ACC_W-1:0] p_q [R][C];      // partial sum register (passed down)

  genvar i, j;
  generate
    assign wc_v[0] = w_fire;
    assign wc_b[0] = lbank;
    assign wc_r[0] = wcnt;
    assign wc_d[0] = w_data[7:0];
    for (j = 1; j < C; j++) begin : g_wsk
      reg          sv [j];
      reg          sb [j];
      reg [RW-1:0] sr [j];
      reg [7:0]    sd [j];
      always @(posedge clk) begin
        if (rst) begin
          for (int s = 0; s < j; s++) begin
            sv[s] <= 1'b0; sb[s] <= 1'b0; sr[s] <= '0; sd[s] <= 8'd0;
          end
        end else if (adv) begin
          sv[0] <= w_fire; sb[0] <= lbank; sr[0] <= wcnt; sd[0] <= w_data[8*j +: 8];
          for (int s = 1; s < j; s++) begin
            sv[s] <= sv[s-1]; sb[s] <= sb[s-1]; sr[s] <= sr[s-1]; sd[s] <= sd[s-1];
          end
        end
      end
      assign wc_v[j] = adv && sv[j-1];
      assign wc_b[j] = sb[j-1];
      assign wc_r[j] = sr[j-1];
      assign wc_d[j] = sd[j-1];
    end

    for (i = 0; i < R; i++) begin : g_row
      // input skew: row i enters PE(i,0) i cycles after row 0
      wire signed [7:0] a_new = act_fire ? $signed(in_data[8*i +: 8]) : 8'sd0;
      if (i == 0) begin : g_noskew
        assign a_in[0][0] = a_new;
      end else begin : g_skew
        reg signed [7:0] sk [i];
        always @(posedge clk) begin
          if (rst) begin
            for (int s = 0; s < i; s++) sk[s] <= 8'sd0;
          end else if (adv) begin
            sk[0] <= a_new;
            for (int s = 1; s < i; s++) sk[s] <= sk[s-1];
          end
        end
        assign a_in[i][0] = sk[i-1];
      end
      for (j = 0; j < C; j++) begin : g_col
        if (j > 0) begin : g_pass
          assign a_in[i][j] = a_q[i][j-1];
        end
        // the bank of the wavefront at diagonal i+j
        wire bsel;
        if (i + j == 0) begin : g_b0
          assign bsel = cbank;
        end else begin : g_bd
          assign bsel = tpipe[i+j-1];
        end
        wire signed [7:0] w = bsel ? w1_q[i][j] : w0_q[i][j];
        wire signed [15:0] prod = a_in[i][j] * w;
        wire signed [ACC_W-1:0] p_above;
        if (i == 0) begin : g_top
          assign p_above = '0;
        end else begin : g_below
          assign p_above = p_q[i-1][j];
        end
        always @(posedge clk) begin
          if (rst) begin
            a_q[i][j] <= 8'sd0; p_q[i][j] <= '0; w0_q[i][j] <= 8'sd0; w1_q[i][j] <= 8'sd0;
          end else begin
            if (adv) begin
              a_q[i][j] <= a_in[i][j];
              p_q[i][j] <= p_above + ACC_W'(prod);
            end
            if (wc_v[j] && wc_r[j] == RW'(i)) begin
              if (wc_b[j]) w1_q[i][j] <= $signed(wc_d[j]);
              else w0_q[i][j] <= $signed(wc_d[j]);
            end
          end
        end
      end
    end
    // deskew: column j leaves the array C-1-j cycles before column C-1
    for (j = 0; j < C; j++) begin : g_out
      if (j == C - 1) begin : g_direct
        assign out_data[ACC_W*j +: ACC_W] = p_q[R-1][j];
      end else begin : g_dsk
        reg [ACC_W-1:0] dsk [C-1-j];
        always @(posedge clk) begin
          if (rst) begin
            for (int s = 0; s < C - 1 - j; s++) dsk[s] <= '0;
          end else if (adv) begin
            dsk[0] <= p_q[R-1][j];
            for (int s = 1; s < C - 1 - j; s++) dsk[s] <= dsk[s-1];
          end
        end
        assign out_data[ACC_W*j +: ACC_W] = dsk[C-2-j];
      end
    end
  endgenerate

  always @(posedge clk) begin
    if (rst) begin
      full <= 2'b00; lbank <= 1'b0; cbank <= 1'b0; wcnt <= '0;
      vpipe <= '0; lpipe <= '0; tpipe <= '0; stat_count <= 32'd0;
    end else begin
      if (adv) begin
        vpipe <= {vpipe[D-1:0], act_fire};
        lpipe <= {lpipe[D-1:0], act_fire && in_last};
        tpipe <= {tpipe[D-2:0], cbank};    // D >= 2 (R, C >= 2)
      end
      stat_count <= stat_count + {31'd0, w_fire} + {31'd0, act_fire};
      // w_fire needs bank lbank empty and act_fire bank cbank full: never the same bank.
      if (w_fire) begin
        if (wcnt == RW'(R - 1)) begin
          wcnt <= '0;
          full[lbank] <= 1'b1;
          lbank <= !lbank;
        end else begin
          wcnt <= wcnt + 1'b1;
        end
      end
      if (act_fire && in_last) begin
        full[cbank] <= 1'b0;
        cbank <= !cbank;
      end
    end
  end
endmodule
