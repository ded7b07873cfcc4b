"""A certificate of attendance as a one-page PDF."""

from pathlib import Path

from fpdf import FPDF

from trainapp.attendance.models import Certificate
from trainapp.text import format_number
from trainapp.timezones import format_date

# The PDF's built-in fonts cover Latin-1 only: "Łukasz" or a Welsh "ŵ" would come out as "?".
# DejaVu Sans (shipped beside this module, licence in fonts/LICENSE) covers the alphabets
# people's names are written in; fpdf2 embeds just the glyphs a certificate uses.
FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"


def _new_pdf() -> FPDF:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
    return pdf


def certificate_pdf(certificate: Certificate, organisation: str, verify_url: str) -> bytes:
    """Render one certificate: learner, course, date, CPD hours, number, organisation."""
    booking = certificate.booking
    session, course = booking.session, booking.session.course
    pdf = _new_pdf()
    pdf.set_title(f"Certificate of attendance: {course.title}")
    pdf.set_author(organisation)
    pdf.add_page()
    pdf.set_draw_color(29, 112, 184)
    pdf.set_line_width(2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(30)
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, organisation, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, "B", 30)
    pdf.cell(0, 16, "Certificate of attendance", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, "", 16)
    pdf.cell(0, 10, "This is to certify that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 24)
    pdf.cell(0, 14, booking.user.name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 16)
    pdf.cell(0, 10, "attended in full", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 20)
    pdf.multi_cell(0, 12, course.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 14)
    pdf.cell(
        0,
        10,
        f"on {format_date(session.starts_at)}  -  {format_number(course.cpd_hours)} CPD hours",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_y(170)
    pdf.set_font(FONT, "", 11)
    pdf.cell(0, 7, f"Certificate number {certificate.number}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"Check it at {verify_url}", align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
